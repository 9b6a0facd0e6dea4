// Smooth activations (softplus, gelu, silu, elu), each forward beside its backward; the
// backwards are written with ops, so they are differentiable.
#include <cmath>
#include <numbers>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

template <class F>
Tensor map_floating(const char* op, const Tensor& a_in, F f) {
  // Integer inputs compute in f32, as in PyTorch.
  const Tensor a = a_in.dtype() == DType::i64 ? detail::as_dtype(a_in, DType::f32) : a_in;
  return detail::dispatch_floating(op, a.dtype(), [&]<class T>() {
    return detail::unary_kernel<T>(a, [&](T x) { return static_cast<T>(f(x)); });
  });
}

// 1 where f(a) holds, else 0, in a's dtype; a constant for the backward.
template <class F>
Tensor mask_where(const Tensor& a, F f) {
  return map_floating("mask", a, [f](auto x) { return f(static_cast<double>(x)) ? 1.0 : 0.0; });
}

// Φ(a), the standard normal CDF, as its own record so that gelu's backward stays differentiable.
// dΦ(a)/da = φ(a) = e^(-a²/2) / √(2π)
Tensor normal_cdf(const Tensor& a) {
  Tensor out = map_floating("gelu", a, [](auto x) {
    using T = decltype(x);
    return T(0.5) * (T(1) + std::erf(x * static_cast<T>(std::numbers::sqrt2 / 2)));
  });
  if (detail::unrecorded("normal_cdf", out, {&a})) return out;
  return detail::record(
      "normal_cdf", out, {&a}, [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
        const Tensor& x = a.unpack();
        return {g * exp(x * x * -0.5) * (std::numbers::inv_sqrtpi / std::numbers::sqrt2)};
      });
}

}  // namespace

// d softplus(a)/da = σ(beta·a) where beta·a <= threshold, else 1 (the identity above it)
Tensor softplus(const Tensor& a, double beta, double threshold) {
  Tensor out = map_floating("softplus", a, [beta, threshold](auto x) {
    using T = decltype(x);
    const T scaled = x * static_cast<T>(beta);
    return scaled > static_cast<T>(threshold) ? x
                                              : std::log1p(std::exp(scaled)) / static_cast<T>(beta);
  });
  if (detail::unrecorded("softplus", out, {&a})) return out;
  return detail::record(
      "softplus", out, {&a},
      [a = detail::SavedTensor(a), beta, threshold](const Tensor& g) -> Gradients {
        const Tensor& input = a.unpack();
        const Tensor linear =
            mask_where(input, [beta, threshold](double x) { return x * beta > threshold; });
        return {where(linear, g, g * sigmoid(input * beta))};
      });
}

// d gelu(a)/da = Φ(a) + a·φ(a)
Tensor gelu(const Tensor& a) {
  Tensor out = map_floating("gelu", a, [](auto x) {
    using T = decltype(x);
    return x * T(0.5) * (T(1) + std::erf(x * static_cast<T>(std::numbers::sqrt2 / 2)));
  });
  if (detail::unrecorded("gelu", out, {&a})) return out;
  return detail::record(
      "gelu", out, {&a}, [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
        const Tensor& x = a.unpack();
        const Tensor density = exp(x * x * -0.5) * (std::numbers::inv_sqrtpi / std::numbers::sqrt2);
        return {g * (normal_cdf(x) + x * density)};
      });
}

// d silu(a)/da = σ(a)·(1 + a·(1 - σ(a)))
Tensor silu(const Tensor& a) {
  Tensor out = map_floating("silu", a, [](auto x) {
    using T = decltype(x);
    // x·σ(x) written as in sigmoid, so that neither branch overflows.
    if (x >= 0) return x / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return x * e / (T(1) + e);
  });
  if (detail::unrecorded("silu", out, {&a})) return out;
  return detail::record("silu", out, {&a},
                        [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          const Tensor s = sigmoid(x);
                          return {g * s * (1.0 + x * (1.0 - s))};
                        });
}

// d elu(a)/da = 1 where a > 0, else alpha·e^a
Tensor elu(const Tensor& a, double alpha) {
  Tensor out = map_floating("elu", a, [alpha](auto x) {
    using T = decltype(x);
    return x > 0 ? x : static_cast<T>(alpha) * std::expm1(x);
  });
  if (detail::unrecorded("elu", out, {&a})) return out;
  return detail::record("elu", out, {&a},
                        [a = detail::SavedTensor(a), alpha](const Tensor& g) -> Gradients {
                          const Tensor& input = a.unpack();
                          const Tensor positive = mask_where(input, [](double x) { return x > 0; });
                          // e^a is taken only where a <= 0 (e^0 elsewhere), so a large a cannot
                          // overflow into 0·Inf.
                          return {where(positive, g, g * exp(input * (1.0 - positive)) * alpha)};
                        });
}

}  // namespace tg
