// gradcheck and gradgradcheck: every Jacobian entry against central differences, in f64.
#include "tapegrad/autograd/gradcheck.hpp"

#include <fmt/format.h>

#include <cmath>

#include "kernels.hpp"
#include "tapegrad/autograd/backward.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg {
namespace {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

// "[1, 2]" for flat element 5 of shape [2, 3].
std::string element_name(const Shape& shape, int64_t flat) {
  Shape index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return format_shape(index);
}

// "fc1.weight[2, 0]" for a named input, else "input 1 [3, 2], element [2, 0]".
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

void check_inputs(const char* op, const std::vector<Tensor>& inputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad() && inputs[i].dtype() != DType::f64)
      throw Error(fmt::format(
          "{}: input {} is {} (shape {}); finite differences need f64 inputs — create them with "
          "{{.dtype = tg::f64}} or convert with .to(tg::f64)",
          op, i, dtype_name(inputs[i].dtype()), format_shape(inputs[i].shape())));
}

}  // namespace

GradcheckResult gradcheck(Function fn, std::vector<Tensor> inputs, GradcheckOptions options) {
  check_inputs("gradcheck", inputs);
  std::vector<Tensor> checked;
  std::vector<size_t> checked_index;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) {
      checked.push_back(inputs[i]);
      checked_index.push_back(i);
    }
  if (checked.empty()) throw Error("gradcheck: no input requires grad, so nothing is checked");

  Tensor output;
  {
    EnableGradGuard grad_mode;
    output = fn(inputs);
  }
  if (output.dtype() != DType::f64)
    throw Error(fmt::format("gradcheck: the function returned {}; it must compute in f64",
                            dtype_name(output.dtype())));
  const int64_t outputs = output.numel();

  // analytical[c][j][e]: d output[j] / d checked[c][e], one backward per output element.
  std::vector<std::vector<std::vector<double>>> analytical(checked.size());
  for (size_t c = 0; c < checked.size(); ++c)
    analytical[c].assign(static_cast<size_t>(outputs),
                         std::vector<double>(static_cast<size_t>(checked[c].numel()), 0.0));
  for (int64_t j = 0; j < outputs; ++j) {
    Tensor out;
    {
      EnableGradGuard grad_mode;
      out = fn(inputs);
    }
    if (!out.requires_grad()) break;  // the output does not depend on the inputs: all zero
    Tensor seed = zeros(out.shape(), {.dtype = DType::f64});
    detail::data_of<double>(seed)[j] = 1.0;
    const std::vector<Tensor> grads = grad({out}, checked, {seed});
    for (size_t c = 0; c < checked.size(); ++c)
      if (grads[c].defined()) {
        const std::vector<double> g = grads[c].to_vector();
        for (size_t e = 0; e < g.size(); ++e) analytical[c][static_cast<size_t>(j)][e] = g[e];
      }
  }

  GradcheckResult result;
  std::string first_failure;
  int failures = 0;
  for (size_t c = 0; c < checked.size(); ++c) {
    // Element e of a (possibly strided) input sits at offset[e] from its first element.
    std::vector<int64_t> offset(static_cast<size_t>(checked[c].numel()));
    const std::vector<int64_t> walk[1] = {checked[c].strides()};
    detail::for_each_strided(checked[c].shape(), walk, [&](int64_t i, const int64_t* off) {
      offset[static_cast<size_t>(i)] = off[0];
    });
    auto* const first = static_cast<double*>(checked[c].impl()->data);
    for (int64_t e = 0; e < checked[c].numel(); ++e) {
      double* x = first + offset[static_cast<size_t>(e)];
      const double saved = *x;
      *x = saved + options.eps;
      const std::vector<double> plus = evaluate(fn, inputs);
      *x = saved - options.eps;
      const std::vector<double> minus = evaluate(fn, inputs);
      *x = saved;
      for (int64_t j = 0; j < outputs; ++j) {
        const auto uj = static_cast<size_t>(j);
        const double numerical = (plus[uj] - minus[uj]) / (2 * options.eps);
        const double exact = analytical[c][uj][static_cast<size_t>(e)];
        const double error = std::abs(exact - numerical);
        const bool close = error <= options.atol + options.rtol * std::abs(numerical);
        if (std::isnan(error) || error > result.max_abs_error) result.max_abs_error = error;
        if (close) continue;
        result.ok = false;
        if (++failures <= 10)
          result.report += fmt::format(
              "{} -> output {}: analytical {:.10g}, numerical {:.10g}, input value {:.10g} "
              "(|difference| {:.3g} > atol {} + rtol {} * |numerical|)\n",
              input_element_name(checked_index[c], checked[c].shape(), e, options.input_names),
              element_name(output.shape(), j), exact, numerical, saved, error, options.atol,
              options.rtol);
      }
    }
  }
  if (failures > 10) result.report += fmt::format("... and {} more mismatches\n", failures - 10);
  if (result.ok)
    result.report =
        fmt::format("gradcheck passed: {} input(s), {} output element(s), max |error| {:.3g}",
                    checked.size(), outputs, result.max_abs_error);
  else
    result.report = fmt::format("gradcheck failed ({} mismatching Jacobian entries):\n", failures) +
                    result.report;
  return result;
}

GradcheckResult gradgradcheck(Function fn, std::vector<Tensor> inputs, GradcheckOptions options) {
  check_inputs("gradgradcheck", inputs);
  Tensor probe;
  {
    EnableGradGuard grad_mode;
    probe = fn(inputs);
  }
  // Fixed random weights for the outputs make the first derivative a function worth checking.
  const Tensor weights = randn(probe.shape(), {.dtype = DType::f64});
  std::vector<size_t> differentiable;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].requires_grad()) differentiable.push_back(i);
  auto first_derivative = [&](const std::vector<Tensor>& in) {
    EnableGradGuard grad_mode;
    const Tensor out = fn(in);
    std::vector<Tensor> wrt;
    for (size_t i : differentiable) wrt.push_back(in[i]);
    std::vector<Tensor> grads = grad({out}, wrt, {weights}, /*create_graph=*/true);
    std::vector<Tensor> flat;
    for (size_t k = 0; k < grads.size(); ++k)
      flat.push_back(grads[k].defined() ? reshape(grads[k], {-1})
                                        : zeros({wrt[k].numel()}, {.dtype = DType::f64}));
    return cat(flat, 0);
  };
  return gradcheck(first_derivative, std::move(inputs), options);
}

}  // namespace tg
