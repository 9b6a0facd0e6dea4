// tg::gradcheck and tg::gradgradcheck: analytical gradients against central differences.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// What a point whose two one-sided differences disagree (a kink: relu, abs, clamp, max at a
/// tie) counts as: reported and passed (`skip`) or reported and failed (`fail`, the default).
enum class AtKinks { skip, fail };

/// Which derivative is checked: backward's vector-Jacobian products (`reverse`, the default) or
/// tg::autograd::jvp's Jacobian-vector products along random tangents (`forward`).
enum class GradcheckMode { reverse, forward };

/// Draws one random point for an input of the given shape and dtype (from tg's global
/// generator, which gradcheck seeds per point), e.g. `tg::rand(shape, {.dtype = dtype}) + 0.1`
/// for a function defined only for x > 0.
using GradcheckSampler = std::function<Tensor(const Shape& shape, DType dtype)>;

/// Finite-difference step and the tolerance |analytical - numerical| <= atol + rtol*|numerical|,
/// plus where (samples, seed, sampler) and how (at_kinks, upcast, mode) to check.
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  /// Names for the inputs in the report ("fc1.weight" reports `fc1.weight[2, 0]`); inputs
  /// beyond the list are reported as `input 3 [4, 2], element [2, 0]`.
  std::vector<std::string> input_names = {};
  /// How many points are checked: point 0 is the given inputs, points 1 to samples - 1 redraw
  /// every input that requires grad (the others keep their values) with `sampler`.
  int samples = 1;
  /// Seeds the random points, gradgradcheck's output weights and forward mode's tangents; the
  /// same seed checks the same points. The caller's random stream is left as it was.
  uint64_t seed = 0;
  /// Draws a random point's value for one input; empty means the standard normal.
  GradcheckSampler sampler = {};
  /// What a non-differentiable point counts as (see AtKinks).
  AtKinks at_kinks = AtKinks::fail;
  /// Checks a function given f32 inputs in f64 (the inputs converted), then compares its f32
  /// gradients with the f64 ones within 64 * f32's epsilon * max(1, largest |derivative|).
  bool upcast = false;
  /// Reverse mode (backward) or forward mode (jvp); see GradcheckMode.
  GradcheckMode mode = GradcheckMode::reverse;
};

/// The verdict, the worst error, and a report naming the input and element that is wrong, with
/// the input's value there beside the analytical and numerical derivatives.
struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string report;
  /// Jacobian entries found at non-differentiable points (counted whatever `at_kinks` says).
  int kinks = 0;
  /// The first point that failed (0 = the given inputs), or -1 when none did.
  int failed_point = -1;
};

/// Compares the whole Jacobian of `fn` at `inputs` (those that require grad, all f64 unless
/// `upcast`) with central differences.
///
///     auto r = tg::gradcheck([](const std::vector<tg::Tensor>& in) { return tg::tanh(in[0]); },
///                            {tg::randn({3}, {.dtype = tg::f64, .requires_grad = true})});
///     CHECK_MESSAGE(r.ok, r.report);
GradcheckResult gradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn,
                          std::vector<Tensor> inputs, GradcheckOptions options = {});

/// Checks second derivatives: the gradient of `fn` (recorded with create_graph, against fixed
/// random output weights) is itself gradchecked.
GradcheckResult gradgradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn,
                              std::vector<Tensor> inputs, GradcheckOptions options = {});

/// gradcheck for tensors that `fn` reads from elsewhere rather than from its argument (a model's
/// parameters, and buffers that do not require grad): random points are written into them and
/// `upcast` converts them to f64 in place (every handle to them follows), both undone at the end.
GradcheckResult gradcheck_in_place(std::function<Tensor(const std::vector<Tensor>&)> fn,
                                   std::vector<Tensor> tensors, GradcheckOptions options);

}  // namespace tg
