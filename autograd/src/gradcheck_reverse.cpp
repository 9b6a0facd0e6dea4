// gradcheck's reverse mode at one point: backward's Jacobian against central differences, with
// the one-sided differences telling a kink (relu at 0) from a wrong derivative.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "gradcheck_detail.hpp"
#include "kernels.hpp"

namespace tg::detail::gradcheck {

PointCheck check_reverse(const Function& fn, const std::vector<Tensor>& inputs,
                         const GradcheckOptions& options) {
  const Checked checked = checked_inputs("gradcheck", inputs);
  Shape output_shape;
  DType output_dtype = DType::f64;
  const Jacobian analytical =
      analytical_jacobian(fn, inputs, checked, &output_shape, &output_dtype);
  if (output_dtype != DType::f64)
    throw Error(fmt::format("gradcheck: the function returned {}; it must compute in f64",
                            dtype_name(output_dtype)));
  PointCheck result;
  result.checked = checked.tensors.size();
  result.outputs = shape_numel(output_shape);
  const std::vector<double> base = evaluate(fn, inputs);
  const double eps = options.eps;
  for (size_t c = 0; c < checked.tensors.size(); ++c) {
    const std::vector<double*> address = element_addresses(checked.tensors[c]);
    for (int64_t e = 0; e < checked.tensors[c].numel(); ++e) {
      double& x = *address[static_cast<size_t>(e)];
      const double saved = x;
      x = saved + eps;
      const std::vector<double> plus = evaluate(fn, inputs);
      x = saved - eps;
      const std::vector<double> minus = evaluate(fn, inputs);
      x = saved;
      for (int64_t j = 0; j < result.outputs; ++j) {
        const auto uj = static_cast<size_t>(j);
        const double numerical = (plus[uj] - minus[uj]) / (2 * eps);
        const double exact = analytical[c][uj][static_cast<size_t>(e)];
        const double error = std::abs(exact - numerical);
        if (error <= options.atol + options.rtol * std::abs(numerical)) {
          result.max_abs_error = std::max(result.max_abs_error, error);
          continue;
        }
        const std::string where =
            fmt::format("{} -> output {}",
                        input_element_name(checked.index[c], checked.tensors[c].shape(), e,
                                           options.input_names),
                        element_name(output_shape, j));
        // A smooth function's one-sided slopes differ by about eps * f'', far inside the
        // tolerance; a kink within eps of x makes them differ by the jump in the slope.
        const double right = (plus[uj] - base[uj]) / eps;
        const double left = (base[uj] - minus[uj]) / eps;
        const double slope_tolerance =
            options.atol + options.rtol * std::max(std::abs(left), std::abs(right));
        const bool kink = std::abs(right - left) > slope_tolerance;
        // At a kink any value between the slopes (a subgradient) is a fair answer; one outside
        // them is a wrong derivative whatever at_kinks says.
        const bool between = exact >= std::min(left, right) - slope_tolerance &&
                             exact <= std::max(left, right) + slope_tolerance;
        if (kink && between) {
          ++result.kinks;
          const std::string line = fmt::format(
              "{}: non-differentiable point (one-sided slopes {:.10g} and {:.10g}), analytical "
              "{:.10g}, input value {:.10g}\n",
              where, left, right, exact, saved);
          if (options.at_kinks == AtKinks::skip) {
            result.skipped_kink_lines += line;
            continue;
          }
          if (std::isnan(error) || error > result.max_abs_error) result.max_abs_error = error;
          result.fail(line);
          continue;
        }
        if (std::isnan(error) || error > result.max_abs_error) result.max_abs_error = error;
        if (kink)
          result.fail(fmt::format(
              "{}: analytical {:.10g}, outside the one-sided slopes {:.10g} and {:.10g} of a "
              "non-differentiable point, input value {:.10g}\n",
              where, exact, left, right, saved));
        else
          result.fail(fmt::format(
              "{}: analytical {:.10g}, numerical {:.10g}, input value {:.10g} (|difference| "
              "{:.3g} > atol {} + rtol {} * |numerical|)\n",
              where, exact, numerical, saved, error, options.atol, options.rtol));
      }
    }
  }
  return result;
}

}  // namespace tg::detail::gradcheck
