// gradcheck's shared pieces: element names, plain evaluations, Jacobians, seeded draws, reports.
#include <fmt/format.h>

#include "gradcheck_detail.hpp"
#include "kernels.hpp"
#include "tapegrad/autograd/backward.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg::detail::gradcheck {

std::string element_name(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return format_shape(index);
}

std::string input_element_name(size_t input, const Shape& shape, int64_t flat,
                               const std::vector<std::string>& names) {
  if (input < names.size()) return names[input] + element_name(shape, flat);
  return fmt::format("input {} {}, element {}", input, format_shape(shape),
                     element_name(shape, flat));
}

std::vector<double> evaluate(const Function& fn, const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  const Tensor out = fn(inputs);
  return out.to_vector();
}

std::vector<double*> element_addresses(const Tensor& t) {
  std::vector<double*> address(static_cast<size_t>(t.numel()));
  double* const first = static_cast<double*>(t.impl()->data);
  const Shape walk[1] = {t.strides()};
  for_each_strided(t.shape(), walk, [&](int64_t i, const int64_t* offset) {
    address[static_cast<size_t>(i)] = first + offset[0];
  });
  return address;
}

Checked checked_inputs(const char* op, const std::vector<Tensor>& inputs) {
  Checked checked;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) {
      checked.tensors.push_back(inputs[i]);
      checked.index.push_back(i);
    }
  if (checked.tensors.empty())
    throw Error(fmt::format("{}: no input requires grad, so nothing is checked", op));
  return checked;
}

Jacobian analytical_jacobian(const Function& fn, const std::vector<Tensor>& inputs,
                             const Checked& checked, Shape* output_shape, DType* output_dtype) {
  Tensor output;
  {
    EnableGradGuard grad_mode;
    output = fn(inputs);
  }
  if (output_shape) *output_shape = output.shape();
  if (output_dtype) *output_dtype = output.dtype();
  const int64_t outputs = output.numel();
  Jacobian jacobian(checked.tensors.size());
  for (size_t c = 0; c < checked.tensors.size(); ++c)
    jacobian[c].assign(static_cast<size_t>(outputs),
                       std::vector<double>(static_cast<size_t>(checked.tensors[c].numel()), 0.0));
  for (int64_t j = 0; j < outputs; ++j) {
    // A fresh graph per output element: backward frees the one it walks.
    Tensor out;
    {
      EnableGradGuard grad_mode;
      out = j == 0 ? output : fn(inputs);
    }
    if (!out.requires_grad()) break;  // the output does not depend on the inputs: all zero
    std::vector<double> one_hot(static_cast<size_t>(outputs), 0.0);
    one_hot[static_cast<size_t>(j)] = 1.0;
    const Tensor seed = tensor(one_hot, out.shape(), {.dtype = out.dtype()});
    const std::vector<Tensor> grads = grad({out}, checked.tensors, {seed});
    for (size_t c = 0; c < checked.tensors.size(); ++c)
      if (grads[c].defined()) {
        const std::vector<double> g = grads[c].to_vector();
        for (size_t e = 0; e < g.size(); ++e) jacobian[c][static_cast<size_t>(j)][e] = g[e];
      }
  }
  return jacobian;
}

uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index) {
  // splitmix64's finaliser over the three numbers: nearby seeds and indices draw unrelated
  // streams.
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream * 0x100000001B3ULL + index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

SeededGenerator::SeededGenerator(uint64_t seed) : saved_(get_rng_state()) { manual_seed(seed); }

SeededGenerator::~SeededGenerator() { set_rng_state(saved_); }

void PointCheck::fail(const std::string& line) {
  ok = false;
  if (++failures <= 10) failure_lines += line;
}

std::string PointCheck::report(const char* mode_name) const {
  if (ok) {
    std::string text =
        fmt::format("{} passed: {} input(s), {} output element(s), max |error| {:.3g}", mode_name,
                    checked, outputs, max_abs_error);
    if (kinks > 0)
      text +=
          fmt::format("; {} non-differentiable point(s) skipped:\n{}", kinks, skipped_kink_lines);
    return text;
  }
  std::string text = fmt::format("{} failed ({} mismatching Jacobian entries):\n{}", mode_name,
                                 failures, failure_lines);
  if (failures > 10) text += fmt::format("... and {} more mismatches\n", failures - 10);
  if (!skipped_kink_lines.empty())
    text += "non-differentiable points skipped:\n" + skipped_kink_lines;
  return text;
}

}  // namespace tg::detail::gradcheck
