// Private pieces of gradcheck shared by its reverse, forward and f32 checks: names, Jacobians,
// the perturbed evaluations, seeded draws, and one point's findings.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd/gradcheck.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail::gradcheck {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

/// "[1, 2]" for flat element 5 of shape [2, 3].
std::string element_name(const Shape& shape, int64_t flat);

/// "fc1.weight[2, 0]" for a named input, else "input 1 [3, 2], element [2, 0]".
std::string input_element_name(size_t input, const Shape& shape, int64_t flat,
                               const std::vector<std::string>& names);

/// fn(inputs) without recording, flattened to doubles.
std::vector<double> evaluate(const Function& fn, const std::vector<Tensor>& inputs);

/// The address of each element of an f64 tensor in row-major order; a strided view's elements
/// are not one run in memory, so perturbing element e must go through its own address.
std::vector<double*> element_addresses(const Tensor& t);

/// The inputs that require grad, and where they sit among all inputs.
struct Checked {
  std::vector<Tensor> tensors;
  std::vector<size_t> index;
};
Checked checked_inputs(const char* op, const std::vector<Tensor>& inputs);

/// jacobian[c][j][e] = d output[j] / d checked[c][e], one backward per output element, in
/// whatever dtype fn computes; `output_dtype` receives that dtype.
using Jacobian = std::vector<std::vector<std::vector<double>>>;
Jacobian analytical_jacobian(const Function& fn, const std::vector<Tensor>& inputs,
                             const Checked& checked, Shape* output_shape, DType* output_dtype);

/// A 64-bit seed for draw `index` of stream `stream` (points, tangents, weights) under `seed`.
uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index);
inline constexpr uint64_t kPointStream = 1, kTangentStream = 2, kWeightStream = 3;

/// Seeds tg's global generator for the guard's lifetime and then restores its state, so that
/// gradcheck's draws repeat for a seed and the caller's stream is left as it was.
class SeededGenerator {
 public:
  explicit SeededGenerator(uint64_t seed);
  ~SeededGenerator();
  SeededGenerator(const SeededGenerator&) = delete;
  SeededGenerator& operator=(const SeededGenerator&) = delete;

 private:
  Tensor saved_;
};

/// What one point's check found: failures (counted, the first ten written out), kinks passed
/// over by AtKinks::skip, and the worst error.
struct PointCheck {
  bool ok = true;
  double max_abs_error = 0.0;
  int failures = 0;
  int kinks = 0;
  std::string failure_lines;
  std::string skipped_kink_lines;
  int64_t outputs = 0;
  size_t checked = 0;

  /// Notes one failure's line (the first ten are kept).
  void fail(const std::string& line);
  /// The report for this point alone, in gradcheck's words.
  std::string report(const char* mode_name) const;
};

/// Reverse mode at one point: every Jacobian entry from backward against central differences,
/// kinks told apart by their one-sided differences.
PointCheck check_reverse(const Function& fn, const std::vector<Tensor>& inputs,
                         const GradcheckOptions& options);

/// Forward mode at one point: jvp along random tangents (drawn from `tangent_seed`) against
/// central differences along them; on a mismatch every input element is tried alone, so the
/// report names the element.
PointCheck check_forward(const Function& fn, const std::vector<Tensor>& inputs,
                         const GradcheckOptions& options, uint64_t tangent_seed);

/// The f32 half of `upcast`: the Jacobian fn gives in f32 (`low`) against the one it gives in
/// f64 at the same point (`reference`), within 64 * f32 epsilon * max(1, max |reference|).
/// `checked` gives the names and the values for the report.
PointCheck compare_f32(const Jacobian& low, const Jacobian& reference, const Checked& checked,
                       const Shape& output_shape, const GradcheckOptions& options);

}  // namespace tg::detail::gradcheck
