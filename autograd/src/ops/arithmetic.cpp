// + - * / and negation, with broadcasting; each forward beside its backward.
#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

template <class F>
Tensor broadcast_op(const char* op, const Tensor& a, const Tensor& b, F f) {
  return detail::dispatch(detail::promote(a.dtype(), b.dtype()),
                          [&]<class T>() { return detail::binary_kernel<T>(op, a, b, f); });
}

Tensor constant_like(const Tensor& t, double value) {
  return scalar(value, {.dtype = t.dtype() == DType::i64 ? DType::f32 : t.dtype()});
}

Tensor constant_for(const Tensor& t, double value) {
  // An integer tensor stays integer with an integral constant, as PyTorch does.
  if (t.dtype() == DType::i64 && value == static_cast<double>(static_cast<int64_t>(value)))
    return scalar(value, {.dtype = DType::i64});
  return constant_like(t, value);
}

}  // namespace

// d(a+b)/da = 1, d(a+b)/db = 1 (the engine sums each gradient back to its input's shape)
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_op("add", a, b, [](auto x, auto y) { return x + y; });
  return detail::record("add", out, {&a, &b}, [](const Tensor& g) -> Gradients { return {g, g}; });
}

// d(a-b)/da = 1, d(a-b)/db = -1
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_op("sub", a, b, [](auto x, auto y) { return x - y; });
  return detail::record("sub", out, {&a, &b}, [](const Tensor& g) -> Gradients {
    return {g, neg(g)};
  });
}

// d(a*b)/da = b, d(a*b)/db = a
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_op("mul", a, b, [](auto x, auto y) { return x * y; });
  const bool a_needs = a.requires_grad(), b_needs = b.requires_grad();
  return detail::record("mul", out, {&a, &b},
                        [a, b, a_needs, b_needs](const Tensor& g) -> Gradients {
                          return {a_needs ? g * b : Tensor(), b_needs ? g * a : Tensor()};
                        });
}

// d(a/b)/da = 1/b, d(a/b)/db = -a/b²
Tensor div(const Tensor& a, const Tensor& b) {
  // True division: integers divide as floats, as in PyTorch.
  const DType dtype = detail::promote(a.dtype(), b.dtype());
  const Tensor x = dtype == DType::i64 ? detail::as_dtype(a, DType::f32) : a;
  Tensor out = broadcast_op("div", x, b, [](auto p, auto q) { return p / q; });
  const bool a_needs = a.requires_grad(), b_needs = b.requires_grad();
  return detail::record(
      "div", out, {&a, &b}, [a, b, a_needs, b_needs](const Tensor& g) -> Gradients {
        return {a_needs ? g / b : Tensor(), b_needs ? neg(g) * a / (b * b) : Tensor()};
      });
}

// d(-a)/da = -1
Tensor neg(const Tensor& a) {
  Tensor out = detail::dispatch(
      a.dtype(), [&]<class T>() { return detail::unary_kernel<T>(a, [](T x) { return -x; }); });
  return detail::record("neg", out, {&a}, [](const Tensor& g) -> Gradients { return {neg(g)}; });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, constant_for(a, b)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, constant_for(a, b)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, constant_for(a, b)); }
Tensor operator/(const Tensor& a, double b) { return div(a, constant_like(a, b)); }
Tensor operator+(double a, const Tensor& b) { return add(constant_for(b, a), b); }
Tensor operator-(double a, const Tensor& b) { return sub(constant_for(b, a), b); }
Tensor operator*(double a, const Tensor& b) { return mul(constant_for(b, a), b); }
Tensor operator/(double a, const Tensor& b) { return div(constant_like(b, a), b); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace tg
