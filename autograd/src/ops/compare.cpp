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
Tensor where(const Tensor& cond_in, const Tensor& a, const Tensor& b) {
  Tensor cond_holder, a_holder, b_holder;  // strided inputs are read through contiguous copies
  const Tensor& cond = detail::dense_values(cond_in, cond_holder);
  const DType dtype = detail::promote(a.dtype(), b.dtype());
  const Shape shape = detail::broadcast_shapes(
      "where", detail::broadcast_shapes("where", cond.shape(), a.shape()), b.shape());
  Tensor out = detail::empty(shape, dtype);
  detail::dispatch(cond.dtype(), [&]<class C>() {
    detail::dispatch(dtype, [&]<class T>() {
      const Tensor& x = detail::dense_as(a, dtype, a_holder);
      const Tensor& y = detail::dense_as(b, dtype, b_holder);
      const C* c = detail::data_of<C>(cond);
      const T* xv = detail::data_of<T>(x);
      const T* yv = detail::data_of<T>(y);
      T* o = detail::data_of<T>(out);
      const Shape strides[3] = {detail::broadcast_strides(cond.shape(), shape),
                                detail::broadcast_strides(a.shape(), shape),
                                detail::broadcast_strides(b.shape(), shape)};
      detail::for_each_strided(shape, strides, [&](int64_t i, const int64_t* off) {
        o[i] = c[off[0]] != C(0) ? xv[off[1]] : yv[off[2]];
      });
    });
  });
  return detail::record("where", out, {&a, &b},
                        [cond = detail::SavedTensor(cond)](const Tensor& g) -> Gradients {
                          const Tensor& c = cond.unpack();
                          const Tensor zero = scalar(0.0, {.dtype = g.dtype()});
                          return {where(c, g, zero), where(c, zero, g)};
                        });
}

namespace {

// The share of the gradient of maximum (larger = true) or minimum that goes to a and to b, as
// PyTorch: g where a wins, g/2 on a tie, 0 where a loses; a NaN on either side loses to nobody,
// so both sides get g there.
std::pair<Tensor, Tensor> shares(const Tensor& a, const Tensor& b, bool larger) {
  const DType dtype = detail::promote(a.dtype(), b.dtype());
  auto share = [larger](auto x, auto y) {
    if (x == y) return 0.5;
    return (larger ? x < y : x > y) ? 0.0 : 1.0;  // false for a NaN on either side
  };
  auto mask = [&](const Tensor& x, const Tensor& y) {
    return detail::dispatch(dtype, [&]<class T>() {
      return detail::binary_kernel<T>(larger ? "maximum" : "minimum", x, y,
                                      [&](T p, T q) { return static_cast<T>(share(p, q)); });
    });
  };
  return {mask(a, b), mask(b, a)};
}

// One side if it is NaN or wins, else the other: NaN propagates, as PyTorch's maximum/minimum.
template <bool kLarger>
auto pick = [](auto x, auto y) {
  if (x != x) return x;
  if (y != y) return y;
  return (kLarger ? x > y : x < y) ? x : y;
};

Tensor extremum(const char* name, const char* backward_name, const Tensor& a, const Tensor& b,
                bool larger) {
  Tensor out = larger ? compare(name, a, b, pick<true>) : compare(name, a, b, pick<false>);
  return detail::record(name, out, {&a, &b},
                        [a = detail::SavedTensor(a), b = detail::SavedTensor(b), larger,
                         backward_name](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          const Tensor& y = b.unpack();
                          const auto [a_share, b_share] = shares(x, y, larger);
                          return {detail::times_mask(backward_name, g, a_share, {x, y}),
                                  detail::times_mask(backward_name, g, b_share, {x, y})};
                        });
}

}  // namespace

// d max(a,b)/da = 1 where a > b, 1/2 where a == b, else 0 (and the mirror image for b);
// maximum(NaN, x) = NaN
Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", "maximum_backward", a, b, true);
}

// d min(a,b)/da = 1 where a < b, 1/2 where a == b, else 0 (and the mirror image for b);
// minimum(NaN, x) = NaN
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", "minimum_backward", a, b, false);
}

}  // namespace tg
