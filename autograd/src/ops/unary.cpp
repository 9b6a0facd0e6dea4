// Elementwise functions of one tensor, each forward beside its backward. Backwards are written
// with ops, so they are differentiable.
#include <cmath>
#include <initializer_list>
#include <span>
#include <vector>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// Floating-point functions of integer tensors compute in f32, as in PyTorch.
Tensor as_floating(const Tensor& a) {
  return a.dtype() == DType::i64 ? detail::as_dtype(a, DType::f32) : a;
}

// The floating functions (exp, tanh, sin, ...) cost dozens of instructions per element, so
// they split across threads from a smaller size than the one-instruction maps below.
template <class F>
Tensor map_floating(const Tensor& a_in, F f) {
  const Tensor a = as_floating(a_in);
  return detail::dispatch_floating("map", a.dtype(), [&]<class T>() {
    return detail::unary_kernel<T>(
        a, [&](T x) { return static_cast<T>(f(x)); }, detail::kGrainCostly);
  });
}

template <class F>
Tensor map_any(const Tensor& a, F f) {
  return detail::dispatch(a.dtype(), [&]<class T>() {
    return detail::unary_kernel<T>(a, [&](T x) { return static_cast<T>(f(x)); });
  });
}

}  // namespace

namespace detail {
namespace {

// g · mask, recorded (when anything is) as an op of g and of `sources`, the tensors the mask was
// computed from. The mask is piecewise constant in them, so their gradient is zero; but they are
// inputs all the same, so a second derivative through relu, abs, clamp or maximum is a zero
// tensor, as in PyTorch, where it would otherwise find no path to the input at all.
Tensor times_mask_of(const char* name, const Tensor& g, const Tensor& mask,
                     std::span<const Tensor> sources) {
  if (!is_grad_enabled()) return g * mask;
  Tensor out;
  {
    NoGradGuard no_grad;  // recorded once below, as this op, not also as a mul
    out = g * mask;
  }
  std::vector<Tensor> inputs{g};
  inputs.insert(inputs.end(), sources.begin(), sources.end());
  return record(name, out, inputs,
                [name, mask, kept = std::vector<Tensor>(sources.begin(), sources.end())](
                    const Tensor& gg) -> Gradients {
                  Gradients grads{times_mask_of(name, gg, mask, kept)};
                  for (const Tensor& source : kept) grads.push_back(zeros_like(source));
                  return grads;
                });
}
}  // namespace

Tensor times_mask(const char* name, const Tensor& g, const Tensor& mask,
                  std::initializer_list<Tensor> sources) {
  return times_mask_of(name, g, mask, std::span<const Tensor>(sources.begin(), sources.size()));
}

}  // namespace detail

namespace {

// g · (1 where a > 0, else `below`), where a NaN counts as positive when `nan_positive` (relu,
// whose gradient PyTorch zeroes only where a <= 0). A plain backward takes it in one pass.
Tensor times_positive_mask(const char* name, const Tensor& g_in, const Tensor& a_in, double below,
                           bool nan_positive) {
  auto mask_of = [&](auto x) { return (x > 0 || (nan_positive && x != x)) ? 1.0 : below; };
  if (is_grad_enabled() || g_in.dtype() != a_in.dtype() || g_in.shape() != a_in.shape())
    return detail::times_mask(name, g_in, map_any(a_in, mask_of), {a_in});
  Tensor g_holder, a_holder;  // strided inputs are read through contiguous copies
  const Tensor& g = detail::dense_values(g_in, g_holder);
  const Tensor& a = detail::dense_values(a_in, a_holder);
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = detail::empty(a.shape(), a.dtype());
    const T* x = detail::data_of<T>(a);
    const T* dy = detail::data_of<T>(g);
    T* dx = detail::data_of<T>(out);
    if (below == 0.0 && nan_positive) {
      // relu: dy times the mask (1 where x > 0 or x is NaN, else 0), the same products as the
      // general form below, so an infinite or NaN dy where x <= 0 still gives NaN (which anomaly
      // mode reports). The mask as a select between two constants compiles to a compare and a
      // blend and vectorises; the general form's short-circuit `||` and double mask kept GCC
      // scalar under -ftrapping-math.
      detail::parallel_for(a.numel(), detail::kGrainCheap, [&](int64_t begin, int64_t end) {
        const T* __restrict xs = x;
        const T* __restrict dys = dy;
        T* __restrict dxs = dx;
        for (int64_t i = begin; i < end; ++i) {
          const T mask = xs[i] <= T(0) ? T(0) : T(1);
          dxs[i] = dys[i] * mask;
        }
      });
      return out;
    }
    detail::parallel_for(a.numel(), detail::kGrainCheap, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) dx[i] = dy[i] * static_cast<T>(mask_of(x[i]));
    });
    return out;
  });
}

// Calls f with x ↦ x^p as PyTorch's pow(Tensor, Scalar) computes it: its special exponents are
// exact products, a root or a reciprocal (x·x·x for 3, √x for ½), which std::pow would round
// differently in the last bit (3, −2) or at −0 and −∞ (½), and all are cheaper.
template <class T, class F>
decltype(auto) with_power(double p, F f) {
  if (p == 2) return f([](T x) { return x * x; });
  if (p == 3) return f([](T x) { return x * x * x; });
  if (p == 0.5) return f([](T x) { return std::sqrt(x); });
  if (p == -0.5) return f([](T x) { return T(1) / std::sqrt(x); });
  if (p == -1) return f([](T x) { return T(1) / x; });
  if (p == -2) return f([](T x) { return T(1) / (x * x); });
  return f([exponent = static_cast<T>(p)](T x) { return std::pow(x, exponent); });
}

// g · (p · a^(p−1)) as one kernel, in PyTorch's order and the recorded form's, for a backward
// that records nothing.
Tensor pow_backward(const Tensor& g, const Tensor& a, double p) {
  return detail::dispatch_floating("pow", g.dtype(), [&]<class T>() {
    const T factor = static_cast<T>(p);
    return with_power<T>(p - 1.0, [&](auto power) {
      return detail::binary_kernel<T>(
          "pow", g, a, [factor, power](T dy, T x) { return dy * (factor * power(x)); });
    });
  });
}

// g · f(g, y) on an op's saved output y as one kernel, in the order its recorded form multiplies,
// for a backward that records nothing: tanh's g·(1 − y²) and sigmoid's g·y·(1 − y) would
// otherwise make three tensors each.
template <class F>
Tensor output_backward(const char* name, const Tensor& g, const Tensor& y, F f) {
  return detail::dispatch_floating(name, g.dtype(), [&]<class T>() {
    return detail::binary_kernel<T>(name, g, y, [&](T dy, T out) { return f(dy, out); });
  });
}

}  // namespace

// d(a^p)/da = p * a^(p-1)   (0 for p = 0, as PyTorch)
Tensor pow(const Tensor& a, double p) {
  const Tensor floating = as_floating(a);
  Tensor out = detail::dispatch_floating("pow", floating.dtype(), [&]<class T>() {
    return with_power<T>(p, [&](auto power) {
      return detail::unary_kernel<T>(floating, power, detail::kGrainCostly);
    });
  });
  out = detail::record("pow", out, {&a},
                       [a = detail::SavedTensor(a), p](const Tensor& g) -> Gradients {
                         if (p == 0.0) return {zeros_like(g)};
                         if (p == 1.0) return {g};
                         if (is_grad_enabled()) return {g * (pow(a.unpack(), p - 1.0) * p)};
                         return {pow_backward(g, a.unpack(), p)};  // the same, in one pass
                       });
  detail::note_scalar_arguments(out, {p});
  return out;
}

// d(e^a)/da = e^a
Tensor exp(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::exp(x); });
  if (detail::unrecorded("exp", out, {&a})) return out;
  return detail::record(
      "exp", out, {&a},
      [a = detail::SavedTensor(a), y = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        return {g * y.value([&] { return exp(a.unpack()); })};
      });
}

// d(log a)/da = 1/a
Tensor log(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::log(x); });
  if (detail::unrecorded("log", out, {&a})) return out;
  return detail::record(
      "log", out, {&a},
      [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients { return {g / a.unpack()}; });
}

// d(√a)/da = 1 / (2√a)
Tensor sqrt(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::sqrt(x); });
  if (detail::unrecorded("sqrt", out, {&a})) return out;
  return detail::record(
      "sqrt", out, {&a},
      [a = detail::SavedTensor(a), y = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        return {g / (y.value([&] { return sqrt(a.unpack()); }) * 2.0)};
      });
}

// d|a|/da = sign(a)   (0 at 0)
Tensor abs(const Tensor& a) {
  Tensor out = map_any(a, [](auto x) { return x < 0 ? -x : x; });
  if (detail::unrecorded("abs", out, {&a})) return out;
  return detail::record(
      "abs", out, {&a}, [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
        const Tensor& x = a.unpack();
        return {detail::times_mask(
            "abs_backward", g,
            map_any(x, [](auto v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }), {x})};
      });
}

// d(tanh a)/da = 1 - tanh²(a)
Tensor tanh(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::tanh(x); });
  if (detail::unrecorded("tanh", out, {&a})) return out;
  return detail::record(
      "tanh", out, {&a},
      [a = detail::SavedTensor(a), y = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        const Tensor t = y.value([&] { return tanh(a.unpack()); });
        if (is_grad_enabled() || g.dtype() != t.dtype()) return {g * (1.0 - t * t)};
        return {output_backward("tanh", g, t, []<class T>(T dy, T value) {
          return dy * (T(1) - value * value);  // the same, in one pass
        })};
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
  if (detail::unrecorded("sigmoid", out, {&a})) return out;
  return detail::record(
      "sigmoid", out, {&a},
      [a = detail::SavedTensor(a), y = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        const Tensor s = y.value([&] { return sigmoid(a.unpack()); });
        if (is_grad_enabled() || g.dtype() != s.dtype()) return {g * s * (1.0 - s)};
        return {output_backward("sigmoid", g, s, []<class T>(T dy, T value) {
          return dy * value * (T(1) - value);  // the same, in one pass
        })};
      });
}

// d relu(a)/da = 1 where a > 0 (and at NaN, as PyTorch), else 0;  relu(NaN) = NaN
Tensor relu(const Tensor& a) {
  Tensor out = map_any(a, [](auto x) { return x <= 0 ? decltype(x)(0) : x; });
  if (detail::unrecorded("relu", out, {&a})) return out;
  return detail::record(
      "relu", out, {&a}, [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
        return {times_positive_mask("relu_backward", g, a.unpack(), 0.0, /*nan_positive=*/true)};
      });
}

// d leaky_relu(a)/da = 1 where a > 0, else slope (NaN included, as PyTorch)
Tensor leaky_relu(const Tensor& a, double slope) {
  Tensor out =
      map_floating(a, [slope](auto x) { return x > 0 ? x : static_cast<decltype(x)>(slope) * x; });
  out = detail::record("leaky_relu", out, {&a},
                       [a = detail::SavedTensor(a), slope](const Tensor& g) -> Gradients {
                         return {times_positive_mask("leaky_relu_backward", g, a.unpack(), slope,
                                                     /*nan_positive=*/false)};
                       });
  detail::note_scalar_arguments(out, {slope});
  return out;
}

// d clamp(a, lo, hi)/da = 1 where lo <= a <= hi, else 0 (so 0 at NaN, which stays NaN).
// With lo > hi every element is hi and every gradient 0, as PyTorch (min(max(a, lo), hi)).
Tensor clamp(const Tensor& a, double lo, double hi) {
  Tensor out = map_any(a, [lo, hi](auto x) {
    using T = decltype(x);
    if (x != x) return x;
    const T low = x < static_cast<T>(lo) ? static_cast<T>(lo) : x;
    return low > static_cast<T>(hi) ? static_cast<T>(hi) : low;
  });
  out = detail::record(
      "clamp", out, {&a}, [a = detail::SavedTensor(a), lo, hi](const Tensor& g) -> Gradients {
        const Tensor& x = a.unpack();
        return {detail::times_mask("clamp_backward", g,
                                   map_any(x,
                                           [lo, hi](auto v) {
                                             const auto d = static_cast<double>(v);
                                             return (d >= lo && d <= hi) ? 1.0 : 0.0;
                                           }),
                                   {x})};
      });
  detail::note_scalar_arguments(out, {lo, hi});
  return out;
}

// d sin(a)/da = cos(a)
Tensor sin(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::sin(x); });
  if (detail::unrecorded("sin", out, {&a})) return out;
  return detail::record("sin", out, {&a},
                        [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          return {g * cos(x)};
                        });
}

// d cos(a)/da = -sin(a)
Tensor cos(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::cos(x); });
  if (detail::unrecorded("cos", out, {&a})) return out;
  return detail::record("cos", out, {&a},
                        [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          return {neg(g * sin(x))};
                        });
}

// d log(1 + a)/da = 1 / (1 + a)
Tensor log1p(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::log1p(x); });
  if (detail::unrecorded("log1p", out, {&a})) return out;
  return detail::record("log1p", out, {&a},
                        [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          return {g / (x + 1.0)};
                        });
}

// d(e^a - 1)/da = e^a
Tensor expm1(const Tensor& a) {
  Tensor out = map_floating(a, [](auto x) { return std::expm1(x); });
  if (detail::unrecorded("expm1", out, {&a})) return out;
  return detail::record("expm1", out, {&a},
                        [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          return {g * exp(x)};
                        });
}

// d(a²)/da = 2a
Tensor square(const Tensor& a) {
  Tensor out = map_any(a, [](auto x) { return x * x; });
  if (detail::unrecorded("square", out, {&a})) return out;
  return detail::record("square", out, {&a},
                        [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          return {g * x * 2.0};
                        });
}

}  // namespace tg
