// Reductions: sum, mean, max (whole tensor or along one dim) and argmax.
#include <fmt/format.h>

#include <limits>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// f32 sums accumulate in double so long reductions keep their precision.
template <class T>
using Accumulator = std::conditional_t<std::is_same_v<T, float>, double, T>;

Tensor sum_all_kernel(const Tensor& a) {
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = detail::empty({}, a.dtype());
    const T* x = detail::data_of<T>(a);
    Accumulator<T> total = 0;
    for (int64_t i = 0, end = a.numel(); i < end; ++i) total += x[i];
    *detail::data_of<T>(out) = static_cast<T>(total);
    return out;
  });
}

Shape reduced_shape(const Shape& shape, int64_t dim, bool keepdim) {
  Shape out = shape;
  if (keepdim)
    out[static_cast<size_t>(dim)] = 1;
  else
    out.erase(out.begin() + dim);
  return out;
}

Tensor sum_dim_kernel(const Tensor& a, int64_t dim, bool keepdim) {
  const detail::DimSplit s = detail::split_at(a.shape(), dim);
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = zeros(reduced_shape(a.shape(), dim, keepdim), {.dtype = a.dtype()});
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t k = 0; k < s.size; ++k) {
        const T* row = x + (outer * s.size + k) * s.inner;
        T* target = o + outer * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) target[i] += row[i];
      }
    return out;
  });
}

// The gradient of a reduction along `dim`, spread back over the input's shape.
Tensor spread(const Tensor& g, const Shape& input_shape, int64_t dim, bool keepdim) {
  return broadcast_to(keepdim ? g : unsqueeze(g, dim), input_shape);
}

int64_t checked_dim(const char* op, const Tensor& a, int64_t dim) {
  return detail::canonical_dim(op, dim, a.dim(), a.shape());
}

}  // namespace

// d sum(a)/da_i = 1
Tensor sum(const Tensor& a) {
  Tensor out = sum_all_kernel(a);
  return detail::record("sum", out, {&a}, [shape = a.shape()](const Tensor& g) -> Gradients {
    return {broadcast_to(g, shape)};
  });
}

// d sum(a, dim)/da = 1 along dim
// A 0-D tensor takes dim 0 or -1 and gives a 0-D result, as PyTorch.
Tensor sum(const Tensor& a, int64_t dim, bool keepdim) {
  if (detail::is_scalar_dim("sum", dim, a)) return sum(a);
  const int64_t d = checked_dim("sum", a, dim);
  Tensor out = sum_dim_kernel(a, d, keepdim);
  return detail::record("sum", out, {&a},
                        [shape = a.shape(), d, keepdim](const Tensor& g) -> Gradients {
                          return {spread(g, shape, d, keepdim)};
                        });
}

// d mean(a)/da_i = 1/n
Tensor mean(const Tensor& a) {
  if (!is_floating(a.dtype()))
    throw Error("mean: expects a floating tensor, got i64 (convert with .to(tg::f32))");
  const double n = static_cast<double>(a.numel());
  Tensor out = detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor total = sum_all_kernel(a);
    *detail::data_of<T>(total) /= static_cast<T>(n);
    return total;
  });
  return detail::record("mean", out, {&a}, [shape = a.shape(), n](const Tensor& g) -> Gradients {
    return {broadcast_to(g / n, shape)};
  });
}

// d mean(a, dim)/da = 1/n along dim
Tensor mean(const Tensor& a, int64_t dim, bool keepdim) {
  if (!is_floating(a.dtype()))
    throw Error("mean: expects a floating tensor, got i64 (convert with .to(tg::f32))");
  if (detail::is_scalar_dim("mean", dim, a)) return mean(a);
  const int64_t d = checked_dim("mean", a, dim);
  const double n = static_cast<double>(a.shape()[static_cast<size_t>(d)]);
  Tensor out = sum_dim_kernel(a, d, keepdim);
  detail::dispatch(a.dtype(), [&]<class T>() {
    T* o = detail::data_of<T>(out);
    for (int64_t i = 0, end = out.numel(); i < end; ++i) o[i] /= static_cast<T>(n);
  });
  return detail::record("mean", out, {&a},
                        [shape = a.shape(), d, keepdim, n](const Tensor& g) -> Gradients {
                          return {spread(g / n, shape, d, keepdim)};
                        });
}

// d max(a)/da_i = 1/k for each of the k elements equal to the maximum, else 0
Tensor max(const Tensor& a) {
  if (a.numel() == 0)
    throw Error("max: the tensor of shape " + format_shape(a.shape()) + " is empty");
  Tensor ties = detail::empty(a.shape(), a.dtype());
  Tensor out = detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T best = x[0];
    for (int64_t i = 1, end = a.numel(); i < end; ++i)
      if (x[i] > best || x[i] != x[i]) best = x[i];
    int64_t count = 0;
    T* m = detail::data_of<T>(ties);
    for (int64_t i = 0, end = a.numel(); i < end; ++i)
      count += (m[i] = x[i] == best ? T(1) : T(0)) != T(0);
    if (count > 1)
      for (int64_t i = 0, end = a.numel(); i < end; ++i) m[i] /= static_cast<T>(count);
    Tensor result = detail::empty({}, a.dtype());
    *detail::data_of<T>(result) = best;
    return result;
  });
  return detail::record("max", out, {&a},
                        [ties](const Tensor& g) -> Gradients { return {g * ties}; });
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  if (detail::is_scalar_dim("argmax", dim, a)) return zeros({}, {.dtype = DType::i64});
  const int64_t d = checked_dim("argmax", a, dim);
  const detail::DimSplit s = detail::split_at(a.shape(), d);
  if (s.size == 0)
    throw Error(fmt::format("argmax: dim {} of shape {} is empty", dim, format_shape(a.shape())));
  Tensor out = detail::empty(reduced_shape(a.shape(), d, keepdim), DType::i64);
  int64_t* o = detail::data_of<int64_t>(out);
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t i = 0; i < s.inner; ++i) {
        const T* slice = x + outer * s.size * s.inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < s.size; ++k) {
          const T value = slice[k * s.inner], current = slice[best * s.inner];
          if (current != current) break;  // a NaN is the maximum, as in PyTorch
          if (value > current || value != value) best = k;
        }
        o[outer * s.inner + i] = best;
      }
  });
  return out;
}

// d max(a, dim)/da = 1 at the first maximum of each slice, else 0
Tensor max(const Tensor& a, int64_t dim, bool keepdim) {
  if (detail::is_scalar_dim("max", dim, a)) return max(a);
  const int64_t d = checked_dim("max", a, dim);
  const Tensor index = argmax(a, d, /*keepdim=*/true);
  Tensor out = detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor values = detail::empty(reduced_shape(a.shape(), d, keepdim), a.dtype());
    const detail::DimSplit s = detail::split_at(a.shape(), d);
    const T* x = detail::data_of<T>(a);
    const int64_t* idx = detail::data_of<int64_t>(index);
    T* o = detail::data_of<T>(values);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t i = 0; i < s.inner; ++i) {
        const int64_t j = outer * s.inner + i;
        o[j] = x[(outer * s.size + idx[j]) * s.inner + i];
      }
    return values;
  });
  return detail::record(
      "max", out, {&a},
      [shape = a.shape(), dtype = a.dtype(), index, d, keepdim](const Tensor& g) -> Gradients {
        const Tensor g_keep = keepdim ? g : unsqueeze(g, d);
        return {scatter_add(zeros(shape, {.dtype = dtype}), d, index, g_keep)};
      });
}

}  // namespace tg
