// Elementwise functions (pow, exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, clamp),
// each forward beside its backward. Backwards are written with ops, so they are differentiable.
#include <cmath>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// Floating-point functions of integer tensors compute in f32, as in PyTorch.
Tensor as_floating(const Tensor& a) {
  return a.dtype() == DType::i64 ? detail::as_dtype(a, DType::f32) : a;
}

template <class F>
Tensor map_floating(const Tensor& a_in, F f) {
  const Tensor a = as_floating(a_in);
  return detail::dispatch_floating("map", a.dtype(), [&]<class T>() {
    return detail::unary_kernel<T>(a, [&](T x) { return static_cast<T>(f(x)); });
  });
}

template <class F>
Tensor map_any(const Tensor& a, F f) {
  return detail::dispatch(a.dtype(), [&]<class T>() {
    return detail::unary_kernel<T>(a, [&](T x) { return static_cast<T>(f(x)); });
  });
}

// 1 where a > 0, else `below`, in a's dtype; a constant for the backward.
Tensor positive_mask(const Tensor& a, double below) {
  return map_any(a, [below](auto x) { return x > 0 ? 1.0 : below; });
}

// g · positive_mask(a, below). A plain backward takes it in one pass, without the mask tensor;
// a recorded one (create_graph) goes through the ops so that g stays differentiable.
Tensor times_positive_mask(const Tensor& g, const Tensor& a, double below) {
  if (is_grad_enabled() || g.dtype() != a.dtype() || g.shape() != a.shape())
    return g * positive_mask(a, below);
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = detail::empty(a.shape(), a.dtype());
    const T* x = detail::data_of<T>(a);
    const T* dy = detail::data_of<T>(g);
    T* dx = detail::data_of<T>(out);
    const T slope = static_cast<T>(below);
    for (int64_t i = 0, end = a.numel(); i < end; ++i) dx[i] = dy[i] * (x[i] > 0 ? T(1) : slope);
    return out;
  });
}

}  // namespace

// d(a^p)/da = p * a^(p-1)   (0 for p = 0, as PyTorch)
Tensor pow(const Tensor& a, double p) {
  Tensor out = map_floating(a, [p](auto x) { return std::pow(x, static_cast<decltype(x)>(p)); });
  out = detail::record("pow", out, {&a}, [a, p](const Tensor& g) -> Gradients {
    if (p == 0.0) return {zeros_like(g)};
    if (p == 1.0) return {g};
    return {g * p * pow(a, p - 1.0)};
  });
  detail::note_scalar_arguments(out, {p});
  return out;
}

// d(e^a)/da = e^a
Tensor exp(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::exp(x); });
  return detail::record("exp", out, {&a},
                        [a, y = detail::saved_output(out)](const Tensor& g) -> Gradients {
                          return {g * (is_grad_enabled() ? exp(a) : y)};
                        });
}

// d(log a)/da = 1/a
Tensor log(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::log(x); });
  return detail::record("log", out, {&a}, [a](const Tensor& g) -> Gradients { return {g / a}; });
}

// d(√a)/da = 1 / (2√a)
Tensor sqrt(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::sqrt(x); });
  return detail::record("sqrt", out, {&a},
                        [a, y = detail::saved_output(out)](const Tensor& g) -> Gradients {
                          return {g / ((is_grad_enabled() ? sqrt(a) : y) * 2.0)};
                        });
}

// d|a|/da = sign(a)   (0 at 0)
Tensor abs(const Tensor& a) {
  Tensor out = map_any(a, [](auto x) { return x < 0 ? -x : x; });
  return detail::record("abs", out, {&a}, [a](const Tensor& g) -> Gradients {
    return {g * map_any(a, [](auto x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); })};
  });
}

// d(tanh a)/da = 1 - tanh²(a)
Tensor tanh(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::tanh(x); });
  return detail::record("tanh", out, {&a},
                        [a, y = detail::saved_output(out)](const Tensor& g) -> Gradients {
                          const Tensor t = is_grad_enabled() ? tanh(a) : y;
                          return {g * (1.0 - t * t)};
                        });
}

// dσ(a)/da = σ(a)(1 - σ(a))
Tensor sigmoid(const Tensor& a) {
  // Written so that neither branch overflows: for x < 0, e^x / (1 + e^x).
  Tensor out = map_floating(a, [](auto x) {
    using T = decltype(x);
    if (x >= 0) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);
    return e / (T(1) + e);
  });
  return detail::record("sigmoid", out, {&a},
                        [a, y = detail::saved_output(out)](const Tensor& g) -> Gradients {
                          const Tensor s = is_grad_enabled() ? sigmoid(a) : y;
                          return {g * s * (1.0 - s)};
                        });
}

// d relu(a)/da = 1 where a > 0, else 0
Tensor relu(const Tensor& a) {
  Tensor out = map_any(a, [](auto x) { return x > 0 ? x : decltype(x)(0); });
  return detail::record("relu", out, {&a}, [a](const Tensor& g) -> Gradients {
    return {times_positive_mask(g, a, 0.0)};
  });
}

// d leaky_relu(a)/da = 1 where a > 0, else slope
Tensor leaky_relu(const Tensor& a, double slope) {
  Tensor out =
      map_floating(a, [slope](auto x) { return x > 0 ? x : static_cast<decltype(x)>(slope) * x; });
  out = detail::record("leaky_relu", out, {&a}, [a, slope](const Tensor& g) -> Gradients {
    return {times_positive_mask(g, a, slope)};
  });
  detail::note_scalar_arguments(out, {slope});
  return out;
}

// d clamp(a, lo, hi)/da = 1 where lo <= a <= hi, else 0
Tensor clamp(const Tensor& a, double lo, double hi) {
  if (lo > hi) throw Error("clamp: lo " + std::to_string(lo) + " > hi " + std::to_string(hi));
  Tensor out = map_any(a, [lo, hi](auto x) {
    using T = decltype(x);
    return x < static_cast<T>(lo) ? static_cast<T>(lo)
                                  : (x > static_cast<T>(hi) ? static_cast<T>(hi) : x);
  });
  out = detail::record("clamp", out, {&a}, [a, lo, hi](const Tensor& g) -> Gradients {
    return {g * map_any(a, [lo, hi](auto x) {
              const auto v = static_cast<double>(x);
              return (v >= lo && v <= hi) ? 1.0 : 0.0;
            })};
  });
  detail::note_scalar_arguments(out, {lo, hi});
  return out;
}

}  // namespace tg
