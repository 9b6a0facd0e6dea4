// gradcheck's forward mode at one point: tg::autograd::jvp along random tangents against central
// differences along the same tangents; a mismatch is traced to its input element.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "gradcheck_detail.hpp"
#include "kernels.hpp"
#include "tapegrad/autograd/derivatives.hpp"
#include "tapegrad/autograd/grad_mode.hpp"

namespace tg::detail::gradcheck {
namespace {

// Random tangents per point: one direction can miss a wrong entry only on a set of measure zero,
// and a few more make an unlucky cancellation in the tolerance unlikely.
constexpr int kTangents = 3;

// (fn(x + eps t) - fn(x - eps t)) / 2 eps, moving every checked input at once.
std::vector<double> central_difference(const Function& fn, const std::vector<Tensor>& inputs,
                                       const Checked& checked, const std::vector<Tensor>& tangents,
                                       double eps) {
  std::vector<std::vector<double>> saved;
  for (const Tensor& x : checked.tensors) saved.push_back(x.to_vector());
  auto move = [&](double step) {
    for (size_t c = 0; c < checked.tensors.size(); ++c) {
      const std::vector<double*> address = element_addresses(checked.tensors[c]);
      const std::vector<double> t = tangents[c].to_vector();
      for (size_t e = 0; e < t.size(); ++e) *address[e] = saved[c][e] + step * t[e];
    }
  };
  move(eps);
  const std::vector<double> plus = evaluate(fn, inputs);
  move(-eps);
  const std::vector<double> minus = evaluate(fn, inputs);
  move(0.0);
  std::vector<double> numerical(plus.size());
  for (size_t j = 0; j < plus.size(); ++j) numerical[j] = (plus[j] - minus[j]) / (2 * eps);
  return numerical;
}

}  // namespace

PointCheck check_forward(const Function& fn, const std::vector<Tensor>& inputs,
                         const GradcheckOptions& options, uint64_t tangent_seed) {
  const Checked checked = checked_inputs("gradcheck", inputs);
  // jvp differentiates with respect to every tensor it is given: give it the checked inputs
  // only, and put them back among the others (integer labels, constants) for fn.
  const autograd::TensorFunction restricted = [&](const std::vector<Tensor>& xs) {
    std::vector<Tensor> all = inputs;
    for (size_t c = 0; c < xs.size(); ++c) all[checked.index[c]] = xs[c];
    return fn(all);
  };
  Tensor probe;
  {
    NoGradGuard no_grad;
    probe = fn(inputs);
  }
  if (probe.dtype() != DType::f64)
    throw Error(fmt::format("gradcheck: the function returned {}; it must compute in f64",
                            dtype_name(probe.dtype())));
  PointCheck result;
  result.checked = checked.tensors.size();
  result.outputs = probe.numel();
  auto compare = [&](const std::vector<double>& jvp_values, const std::vector<double>& numerical,
                     auto&& describe) {
    bool all_close = true;
    for (size_t j = 0; j < numerical.size(); ++j) {
      const double error = std::abs(jvp_values[j] - numerical[j]);
      const bool close = error <= options.atol + options.rtol * std::abs(numerical[j]);
      if (std::isnan(error) || error > result.max_abs_error) result.max_abs_error = error;
      if (close) continue;
      all_close = false;
      result.fail(describe(static_cast<int64_t>(j), jvp_values[j], numerical[j], error));
    }
    return all_close;
  };

  bool tangents_ok = true;
  for (int k = 0; k < kTangents && tangents_ok; ++k) {
    std::vector<Tensor> tangents;
    {
      const SeededGenerator generator(derive_seed(tangent_seed, kTangentStream, k));
      for (const Tensor& x : checked.tensors)
        tangents.push_back(randn(x.shape(), {.dtype = DType::f64}));
    }
    const auto [y, dy] = autograd::jvp(restricted, checked.tensors, tangents);
    tangents_ok = compare(
        dy.to_vector(), central_difference(fn, inputs, checked, tangents, options.eps),
        [&](int64_t j, double value, double numerical, double error) {
          return fmt::format(
              "along random tangent {}: output {}: jvp {:.10g}, numerical {:.10g} (|difference| "
              "{:.3g} > atol {} + rtol {} * |numerical|)\n",
              k, element_name(probe.shape(), j), value, numerical, error, options.atol,
              options.rtol);
        });
  }
  if (tangents_ok) return result;

  // Trace the mismatch: the tangent along one input element at a time is a column of J.
  for (size_t c = 0; c < checked.tensors.size(); ++c)
    for (int64_t e = 0; e < checked.tensors[c].numel(); ++e) {
      std::vector<Tensor> tangents;
      for (const Tensor& x : checked.tensors)
        tangents.push_back(zeros(x.shape(), {.dtype = DType::f64}));
      data_of<double>(tangents[c])[e] = 1.0;
      const double value = checked.tensors[c].to_vector()[static_cast<size_t>(e)];
      const auto [y, dy] = autograd::jvp(restricted, checked.tensors, tangents);
      compare(dy.to_vector(), central_difference(fn, inputs, checked, tangents, options.eps),
              [&](int64_t j, double jvp_value, double numerical, double error) {
                return fmt::format(
                    "{} -> output {}: jvp {:.10g}, numerical {:.10g}, input value {:.10g} "
                    "(|difference| {:.3g} > atol {} + rtol {} * |numerical|)\n",
                    input_element_name(checked.index[c], checked.tensors[c].shape(), e,
                                       options.input_names),
                    element_name(probe.shape(), j), jvp_value, numerical, value, error,
                    options.atol, options.rtol);
              });
    }
  return result;
}

}  // namespace tg::detail::gradcheck
