// gradcheck's upcast: f32 inputs converted to f64 for the differences, and the function's own
// f32 gradients compared with its f64 ones at a tolerance f32 can meet.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "gradcheck_detail.hpp"

namespace tg::detail::gradcheck {
namespace {

// Rounding in f32 costs about one epsilon per operation relative to the magnitudes in play; 64
// leaves room for a few dozen operations (a small reduction, a fused kernel) while a derivative
// that is wrong in f32 (a wrong constant, a dropped term) is off by far more.
constexpr double kF32Epsilons = 64.0;

}  // namespace

PointCheck compare_f32(const Jacobian& low, const Jacobian& reference, const Checked& checked,
                       const Shape& output_shape, const GradcheckOptions& options) {
  // The function's scale: its largest derivative at this point, and at least 1 so that an
  // entry near zero is judged against the others rather than against itself.
  double scale = 1.0;
  for (const auto& per_input : reference)
    for (const auto& row : per_input)
      for (double v : row) scale = std::max(scale, std::abs(v));
  const double tolerance =
      kF32Epsilons * static_cast<double>(std::numeric_limits<float>::epsilon()) * scale;
  PointCheck result;
  result.checked = checked.tensors.size();
  result.outputs = shape_numel(output_shape);
  for (size_t c = 0; c < reference.size(); ++c) {
    const std::vector<double> values = checked.tensors[c].to_vector();
    for (size_t j = 0; j < reference[c].size(); ++j)
      for (size_t e = 0; e < reference[c][j].size(); ++e) {
        const double error = std::abs(low[c][j][e] - reference[c][j][e]);
        if (std::isnan(error) || error > result.max_abs_error) result.max_abs_error = error;
        if (error <= tolerance) continue;
        result.fail(fmt::format(
            "f32 run: {} -> output {}: f32 analytical {:.8g}, f64 analytical {:.10g}, input value "
            "{:.8g} (|difference| {:.3g} > 64 * f32 epsilon * scale {:.3g} = {:.3g})\n",
            input_element_name(checked.index[c], checked.tensors[c].shape(),
                               static_cast<int64_t>(e), options.input_names),
            element_name(output_shape, static_cast<int64_t>(j)), low[c][j][e], reference[c][j][e],
            values[e], error, scale, tolerance));
      }
  }
  return result;
}

}  // namespace tg::detail::gradcheck
