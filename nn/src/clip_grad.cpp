// Gradient clipping in place: clip_grad_norm_ and clip_grad_value_.
#include "tapegrad/nn/clip_grad.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "tapegrad/autograd/error.hpp"

namespace tg::nn {

namespace {

// Calls f(pointer, count) on the storage of every defined gradient, as float or double (a
// gradient is never i64: only f32 and f64 tensors can require one).
template <class F>
void for_each_gradient(const std::vector<Tensor>& params, F&& f) {
  for (const Tensor& param : params) {
    if (!param.defined()) continue;
    Tensor grad = param.grad();
    if (!grad.defined()) continue;
    if (grad.dtype() == DType::f64)
      f(grad.data<double>(), grad.numel());
    else
      f(grad.data<float>(), grad.numel());
  }
}

}  // namespace

double clip_grad_norm_(std::vector<Tensor> params, double max_norm, double norm_type) {
  if (!(max_norm >= 0))
    throw Error(fmt::format("clip_grad_norm_: max_norm must be >= 0, got {}", max_norm));
  if (!(norm_type > 0))
    throw Error(fmt::format("clip_grad_norm_: norm_type must be > 0, got {}", norm_type));
  const bool infinity_norm = std::isinf(norm_type);
  double accumulated = 0.0;  // Σ|g|^p, or max |g| for the infinity norm
  for_each_gradient(params, [&]<class T>(T* g, int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      const double magnitude = std::abs(static_cast<double>(g[i]));
      if (infinity_norm)
        accumulated = std::isnan(magnitude) ? magnitude : std::max(accumulated, magnitude);
      else if (norm_type == 2.0)
        accumulated += magnitude * magnitude;
      else
        accumulated += std::pow(magnitude, norm_type);
    }
  });
  const double total = infinity_norm      ? accumulated
                       : norm_type == 2.0 ? std::sqrt(accumulated)
                                          : std::pow(accumulated, 1.0 / norm_type);
  // A NaN or Inf norm means the step is lost anyway: report it and let the caller decide.
  if (!std::isfinite(total)) return total;
  const double coefficient = max_norm / (total + 1e-6);
  if (coefficient < 1.0)
    for_each_gradient(params, [&]<class T>(T* g, int64_t count) {
      const T scale = static_cast<T>(coefficient);
      for (int64_t i = 0; i < count; ++i) g[i] *= scale;
    });
  return total;
}

void clip_grad_value_(std::vector<Tensor> params, double clip_value) {
  if (!(clip_value >= 0))
    throw Error(fmt::format("clip_grad_value_: clip_value must be >= 0, got {}", clip_value));
  for_each_gradient(params, [&]<class T>(T* g, int64_t count) {
    const T high = static_cast<T>(clip_value);
    for (int64_t i = 0; i < count; ++i) g[i] = std::clamp(g[i], -high, high);
  });
}

}  // namespace tg::nn
