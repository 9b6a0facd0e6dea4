// Comparisons (0/1 results, never recorded) and the selections built on them: maximum,
// minimum and where.
#include <cmath>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

template <class F>
Tensor compare(const char* op, const Tensor& a, const Tensor& b, F f) {
  return detail::dispatch(detail::promote(a.dtype(), b.dtype()), [&]<class T>() {
    return detail::binary_kernel<T>(op, a, b, [&](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

// `value` as a 0-D tensor to compare `a` with: in a's dtype, as PyTorch reads a Python scalar,
// except that an i64 tensor meets a non-integral value in f64 (so 1 < 1.5 holds).
Tensor comparand(const Tensor& a, double value) {
  DType dtype = a.dtype();
  if (dtype == DType::i64 && !(value == std::trunc(value) && std::abs(value) < 0x1p62))
    dtype = DType::f64;
  return scalar(value, {.dtype = dtype});
}

template <class F>
Tensor compare_scalar(const char* op, const Tensor& a, double value, F f) {
  return detail::as_dtype(compare(op, a, comparand(a, value), f), a.dtype());
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare("eq", a, b, [](auto x, auto y) { return x == y; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare("ne", a, b, [](auto x, auto y) { return x != y; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare("lt", a, b, [](auto x, auto y) { return x < y; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare("le", a, b, [](auto x, auto y) { return x <= y; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare("gt", a, b, [](auto x, auto y) { return x > y; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare("ge", a, b, [](auto x, auto y) { return x >= y; });
}

Tensor eq(const Tensor& a, double b) {
  return compare_scalar("eq", a, b, [](auto x, auto y) { return x == y; });
}
Tensor ne(const Tensor& a, double b) {
  return compare_scalar("ne", a, b, [](auto x, auto y) { return x != y; });
}
Tensor lt(const Tensor& a, double b) {
  return compare_scalar("lt", a, b, [](auto x, auto y) { return x < y; });
}
Tensor le(const Tensor& a, double b) {
  return compare_scalar("le", a, b, [](auto x, auto y) { return x <= y; });
}
Tensor gt(const Tensor& a, double b) {
  return compare_scalar("gt", a, b, [](auto x, auto y) { return x > y; });
}
Tensor ge(const Tensor& a, double b) {
  return compare_scalar("ge", a, b, [](auto x, auto y) { return x >= y; });
}

Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, double b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, double b) { return ne(a, b); }
Tensor operator<(const Tensor& a, double b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, double b) { return le(a, b); }
Tensor operator>(const Tensor& a, double b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, double b) { return ge(a, b); }
Tensor operator==(double a, const Tensor& b) { return eq(b, a); }
Tensor operator!=(double a, const Tensor& b) { return ne(b, a); }
Tensor operator<(double a, const Tensor& b) { return gt(b, a); }
Tensor operator<=(double a, const Tensor& b) { return ge(b, a); }
Tensor operator>(double a, const Tensor& b) { return lt(b, a); }
Tensor operator>=(double a, const Tensor& b) { return le(b, a); }

// d where(c, a, b)/da = 1 where c is nonzero, else 0; d/db the other way round. The gradient is
// routed with where itself, not multiplied by a mask, so an Inf in the other branch stays there.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const DType dtype = detail::promote(a.dtype(), b.dtype());
  const Shape shape = detail::broadcast_shapes(
      "where", detail::broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  Tensor out = detail::empty(shape, dtype);
  detail::dispatch(cond.dtype(), [&]<class C>() {
    detail::dispatch(dtype, [&]<class T>() {
      const Tensor x = detail::as_dtype(a, dtype), y = detail::as_dtype(b, dtype);
      const C* c = detail::data_of<C>(cond);
      const T* xv = detail::data_of<T>(x);
      const T* yv = detail::data_of<T>(y);
      T* o = detail::data_of<T>(out);
      const std::vector<int64_t> strides[3] = {detail::broadcast_strides(cond.shape(), shape),
                                               detail::broadcast_strides(a.shape(), shape),
                                               detail::broadcast_strides(b.shape(), shape)};
      detail::for_each_strided(shape, strides, [&](int64_t i, const int64_t* off) {
        o[i] = c[off[0]] != C(0) ? xv[off[1]] : yv[off[2]];
      });
    });
  });
  return detail::record("where", out, {&a, &b}, [cond](const Tensor& g) -> Gradients {
    const Tensor zero = scalar(0.0, {.dtype = g.dtype()});
    return {where(cond, g, zero), where(cond, zero, g)};
  });
}

// d max(a,b)/da = 1 where a > b, 1/2 where a == b, else 0 (and the mirror image for b)
Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = compare("maximum", a, b, [](auto x, auto y) { return x > y ? x : y; });
  return detail::record("maximum", out, {&a, &b}, [a, b](const Tensor& g) -> Gradients {
    const Tensor a_share = gt(a, b) + eq(a, b) * 0.5;
    return {g * a_share, g * (1.0 - a_share)};
  });
}

// d min(a,b)/da = 1 where a < b, 1/2 where a == b, else 0 (and the mirror image for b)
Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = compare("minimum", a, b, [](auto x, auto y) { return x < y ? x : y; });
  return detail::record("minimum", out, {&a, &b}, [a, b](const Tensor& g) -> Gradients {
    const Tensor a_share = lt(a, b) + eq(a, b) * 0.5;
    return {g * a_share, g * (1.0 - a_share)};
  });
}

}  // namespace tg
