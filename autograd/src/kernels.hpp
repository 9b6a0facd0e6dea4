// Private kernel helpers: dtype dispatch, broadcasting, and loops over raw storage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "parallel.hpp"
#include "tapegrad/autograd/dispatch.hpp"  // dispatch, dispatch_floating
#include "tapegrad/autograd/error.hpp"
#include "tensor_impl.hpp"

namespace tg::detail {

/// The dtype two operands compute in: f64 over f32 over i64, as PyTorch promotes.
DType promote(DType a, DType b);

/// The broadcast shape of a and b, or an Error naming `op` and both shapes.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

/// Strides (in elements) that read a tensor of `shape` as if it had `target` shape:
/// 0 along dimensions that broadcasting adds or stretches.
Shape broadcast_strides(const Shape& shape, const Shape& target);

/// static_cast, except that a floating value an int64 cannot hold (NaN, +-Inf, |x| >= 2^63),
/// for which the cast is undefined, becomes INT64_MIN: what x86 and so PyTorch give there.
template <class To, class From>
To convert_element(From x) {
  if constexpr (std::is_same_v<To, int64_t> && !std::is_same_v<From, int64_t>) {
    if (!(x >= From(-0x1p63) && x < From(0x1p63))) return std::numeric_limits<int64_t>::min();
  }
  return static_cast<To>(x);
}

/// `t` itself if it already has `dtype`, else an unrecorded converted (contiguous) copy.
Tensor as_dtype(const Tensor& t, DType dtype);

/// `t` itself when it has `dtype` and is contiguous (no reference count touched), else
/// `holder`, set to an unrecorded contiguous copy in `dtype`: how kernels read their inputs.
/// Always inlined: GCC otherwise calls it out of line from the larger op files.
[[gnu::always_inline]] inline const Tensor& dense_as(const Tensor& t, DType dtype, Tensor& holder) {
  const TensorImpl& impl = *t.impl();
  if (impl.dtype == dtype && !impl.strided) return t;
  holder = impl.dtype == dtype ? dense_copy(t) : as_dtype(t, dtype);
  return holder;
}

/// Strides (in elements) that read tensor `t`, whatever its own strides, as if it had `target`
/// shape: 0 along dimensions that broadcasting adds or stretches.
Shape broadcast_strides_of(const TensorImpl& t, const Shape& target);

/// Writes `src` (any strides and dtype, broadcast to dst's shape) into `dst`'s elements (any
/// strides), converting as convert_element does. The caller checks shapes and overlap.
void copy_values(const Tensor& dst, const Tensor& src);

/// `dim` made non-negative, or an Error naming `op` and the shape.
int64_t canonical_dim(const char* op, int64_t dim, int64_t ndim, const Shape& shape);

/// True when `a` is 0-D and `dim` is 0 or -1, which PyTorch's dim-taking ops (reductions,
/// softmax family, squeeze, transpose) accept there and answer with a 0-D result; false for a
/// tensor with dims; an Error naming `op` for any other dim of a 0-D tensor.
bool is_scalar_dim(const char* op, int64_t dim, const Tensor& a);

/// Sizes before, along and after `dim`: the loops of every op that works along one dim.
struct DimSplit {
  int64_t outer = 1, size = 1, inner = 1;
};
DimSplit split_at(const Shape& shape, int64_t dim);

/// Visits the elements of `shape` in rows [first_row, last_row) of its innermost dimension, in
/// row-major order, calling f(out_index, offsets...) where each offset walks its own strides;
/// the innermost dimension runs as a tight loop.
template <size_t N, class F>
void for_each_strided_rows(const Shape& shape, const Shape (&strides)[N], int64_t first_row,
                           int64_t last_row, F&& f) {
  const int64_t ndim = static_cast<int64_t>(shape.size());
  if (ndim == 0) {
    int64_t zero[N] = {};
    if (first_row < last_row) f(int64_t{0}, zero);
    return;
  }
  const int64_t inner = shape[static_cast<size_t>(ndim - 1)];
  Shape counter(static_cast<size_t>(ndim), 0);
  int64_t offsets[N] = {};
  // The counter and offsets of the first row: its index in the outer dimensions, digit by digit.
  for (int64_t d = ndim - 2, rest = first_row; d >= 0; --d) {
    const auto ud = static_cast<size_t>(d);
    counter[ud] = rest % shape[ud];
    rest /= shape[ud];
    for (size_t k = 0; k < N; ++k) offsets[k] += counter[ud] * strides[k][ud];
  }
  int64_t inner_stride[N];
  for (size_t k = 0; k < N; ++k) inner_stride[k] = strides[k][static_cast<size_t>(ndim - 1)];
  for (int64_t row = first_row; row < last_row; ++row) {
    const int64_t out = row * inner;
    int64_t walk[N];
    for (size_t k = 0; k < N; ++k) walk[k] = offsets[k];
    for (int64_t i = 0; i < inner; ++i) {
      f(out + i, walk);
      for (size_t k = 0; k < N; ++k) walk[k] += inner_stride[k];
    }
    for (int64_t d = ndim - 2; d >= 0; --d) {
      const auto ud = static_cast<size_t>(d);
      ++counter[ud];
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][ud];
      if (counter[ud] < shape[ud]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= strides[k][ud] * shape[ud];
      counter[ud] = 0;
    }
  }
}

/// Visits every element of `shape` in row-major order, calling f(out_index, offsets...) where
/// each offset walks its own strides; the innermost dimension runs as a tight loop.
template <size_t N, class F>
void for_each_strided(const Shape& shape, const Shape (&strides)[N], F&& f) {
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  if (total == 0) return;
  // Size-1 dims dropped, and a dim merged into the one before it where every operand steps
  // over both as over one, so the tight inner loop is as long as it can be: a column [n, 1]
  // (the gradient sum or mean spreads over one) walks as [n], not as n rows of one element.
  // Row-major order, and so each element's out_index, is unchanged.
  Shape merged_shape;
  Shape merged[N];
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool joins = !merged_shape.empty();
    for (size_t k = 0; k < N && joins; ++k) joins = merged[k].back() == strides[k][d] * shape[d];
    if (joins) {
      merged_shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) merged[k].back() = strides[k][d];
    } else {
      merged_shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) merged[k].push_back(strides[k][d]);
    }
  }
  const int64_t rows = merged_shape.empty() ? 1 : total / merged_shape.back();
  for_each_strided_rows(merged_shape, merged, 0, rows, f);
}

/// out = f(a, b) elementwise with broadcasting, computed and returned in `dtype`.
/// The same-shape and scalar cases are plain loops that vectorise; large outputs are split
/// across parallel_for's threads (by rows when broadcasting).
template <class T, class F>
Tensor binary_kernel(const char* op, const Tensor& a_in, const Tensor& b_in, F f) {
  constexpr DType kDType = std::is_same_v<T, float>    ? DType::f32
                           : std::is_same_v<T, double> ? DType::f64
                                                       : DType::i64;
  // Converted or contiguous copies only when needed: copying a handle is two atomic count
  // updates.
  Tensor a_converted, b_converted;
  const Tensor& a = dense_as(a_in, kDType, a_converted);
  const Tensor& b = dense_as(b_in, kDType, b_converted);
  const T* x = data_of<T>(a);
  const T* y = data_of<T>(b);
  const Shape& a_shape = a.impl()->shape;
  if (a_shape == b.impl()->shape) {
    Tensor out = empty(a_shape, kDType);
    T* o = data_of<T>(out);
    parallel_for(a.impl()->numel, kGrainCheap, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = f(x[i], y[i]);
    });
    return out;
  }
  Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(shape, kDType);
  T* o = data_of<T>(out);
  const int64_t n = out.numel();
  if (b.numel() == 1 && a.numel() == n) {
    const T yv = y[0];
    parallel_for(n, kGrainCheap, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = f(x[i], yv);
    });
  } else if (a.numel() == 1 && b.numel() == n) {
    const T xv = x[0];
    parallel_for(n, kGrainCheap, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = f(xv, y[i]);
    });
  } else {
    const Shape strides[2] = {broadcast_strides(a.shape(), shape),
                              broadcast_strides(b.shape(), shape)};
    const auto visit = [&](int64_t i, const int64_t* off) { o[i] = f(x[off[0]], y[off[1]]); };
    if (n == 0) return out;
    const int64_t inner = shape.empty() ? 1 : shape.back();
    const int64_t rows = n / inner;
    parallel_for(rows, std::max<int64_t>(1, kGrainCheap / inner), [&](int64_t begin, int64_t end) {
      for_each_strided_rows(shape, strides, begin, end, visit);
    });
  }
  return out;
}

/// out = f(a) elementwise, in a's dtype; split across threads from 2 * `grain` elements (the
/// default suits an op of a few instructions; kGrainCostly one like exp or tanh).
template <class T, class F>
Tensor unary_kernel(const Tensor& a_in, F f, int64_t grain = kGrainCheap) {
  Tensor a_dense;
  const Tensor& a = dense_values(a_in, a_dense);
  Tensor out = empty(a.shape(), a.dtype());
  const T* x = data_of<T>(a);
  T* o = data_of<T>(out);
  parallel_for(a.numel(), grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) o[i] = f(x[i]);
  });
  return out;
}

}  // namespace tg::detail
