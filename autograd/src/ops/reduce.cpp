// Reductions (whole tensor or along one dim), each forward beside its backward, and the
// running sum cumsum.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// f32 sums accumulate in double so long reductions keep their precision.
template <class T>
using Accumulator = std::conditional_t<std::is_same_v<T, float>, double, T>;

Tensor sum_all_kernel(const Tensor& a_in) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::dense_values(a_in, a_holder);
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

Tensor sum_dim_kernel(const Tensor& a_in, int64_t dim, bool keepdim) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::dense_values(a_in, a_holder);
  const detail::DimSplit s = detail::split_at(a.shape(), dim);
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = zeros(reduced_shape(a.shape(), dim, keepdim), {.dtype = a.dtype()});
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    // Each output sums its own elements in the order k = 0, 1, ..., whichever thread runs it,
    // so the threads split outputs, never one sum: the outer block when it is the larger,
    // else the inner columns (a bias gradient: outer 1, columns many).
    const int64_t grain = std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(s.size, 1));
    const auto sum_block = [&](int64_t outer_begin, int64_t outer_end, int64_t column_begin,
                               int64_t column_end) {
      for (int64_t outer = outer_begin; outer < outer_end; ++outer)
        for (int64_t k = 0; k < s.size; ++k) {
          const T* row = x + (outer * s.size + k) * s.inner;
          T* target = o + outer * s.inner;
          for (int64_t i = column_begin; i < column_end; ++i) target[i] += row[i];
        }
    };
    if (s.outer >= s.inner)
      detail::parallel_for(s.outer, std::max<int64_t>(1, grain / std::max<int64_t>(s.inner, 1)),
                           [&](int64_t begin, int64_t end) { sum_block(begin, end, 0, s.inner); });
    else
      detail::parallel_for(s.inner, std::max<int64_t>(1, grain / std::max<int64_t>(s.outer, 1)),
                           [&](int64_t begin, int64_t end) { sum_block(0, s.outer, begin, end); });
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

namespace {

// Whether x wins over best for the extreme `largest` picks; a NaN wins, as in PyTorch.
template <class T>
bool beats(T x, T best, bool largest) {
  if (best != best) return false;
  return x != x || (largest ? x > best : x < best);
}

// d extreme(a)/da_i = 1/k for each of the k elements equal to the extreme, else 0
Tensor extreme_all(const char* op, const Tensor& a_in, bool largest) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  if (a.numel() == 0)
    throw Error(fmt::format("{}: the tensor of shape {} is empty", op, format_shape(a.shape())));
  Tensor ties = detail::empty(a.shape(), a.dtype());
  Tensor out = detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T best = x[0];
    for (int64_t i = 1, end = a.numel(); i < end; ++i)
      if (beats(x[i], best, largest)) best = x[i];
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
  return detail::record(op, out, {&a}, [ties](const Tensor& g) -> Gradients { return {g * ties}; });
}

// Index of the first extreme along `dim`.
Tensor arg_extreme(const char* op, const Tensor& a_in, int64_t dim, bool keepdim, bool largest) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::dense_values(a_in, a_holder);
  if (detail::is_scalar_dim(op, dim, a)) return zeros({}, {.dtype = DType::i64});
  const int64_t d = checked_dim(op, a, dim);
  const detail::DimSplit s = detail::split_at(a.shape(), d);
  if (s.size == 0)
    throw Error(fmt::format("{}: dim {} of shape {} is empty", op, dim, format_shape(a.shape())));
  Tensor out = detail::empty(reduced_shape(a.shape(), d, keepdim), DType::i64);
  int64_t* o = detail::data_of<int64_t>(out);
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t i = 0; i < s.inner; ++i) {
        const T* slice = x + outer * s.size * s.inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < s.size; ++k)
          if (beats(slice[k * s.inner], slice[best * s.inner], largest)) best = k;
        o[outer * s.inner + i] = best;
      }
  });
  return out;
}

// d extreme(a, dim)/da = 1 at the first extreme of each slice, else 0
Tensor extreme_dim(const char* op, const Tensor& a_in, int64_t dim, bool keepdim, bool largest) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  if (detail::is_scalar_dim(op, dim, a)) return largest ? max(a) : min(a);
  const int64_t d = checked_dim(op, a, dim);
  const Tensor index = arg_extreme(op, a, d, /*keepdim=*/true, largest);
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
      op, out, {&a},
      [shape = a.shape(), dtype = a.dtype(), index, d, keepdim](const Tensor& g) -> Gradients {
        const Tensor g_keep = keepdim ? g : unsqueeze(g, d);
        return {scatter_add(zeros(shape, {.dtype = dtype}), d, index, g_keep)};
      });
}

}  // namespace

Tensor max(const Tensor& a) { return extreme_all("max", a, true); }
Tensor min(const Tensor& a) { return extreme_all("min", a, false); }
Tensor max(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_dim("max", a, dim, keepdim, true);
}
Tensor min(const Tensor& a, int64_t dim, bool keepdim) {
  return extreme_dim("min", a, dim, keepdim, false);
}
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  return arg_extreme("argmax", a, dim, keepdim, true);
}
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim) {
  return arg_extreme("argmin", a, dim, keepdim, false);
}

namespace {

// The product of every element, computed in the dtype (accumulating f32 in double).
Tensor prod_kernel(const Tensor& a_in) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::dense_values(a_in, a_holder);
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = detail::empty({}, a.dtype());
    const T* x = detail::data_of<T>(a);
    Accumulator<T> total = 1;
    for (int64_t i = 0, end = a.numel(); i < end; ++i) total *= x[i];
    *detail::data_of<T>(out) = static_cast<T>(total);
    return out;
  });
}

}  // namespace

// d prod(a)/da_i = prod_{j != i} a_j. Dividing the product by a_i fails at zeros, so with k zeros:
//   k = 0: prod(a) / a_i;
//   k = 1: at the zero, the product of the others (P, over the nonzero entries); elsewhere
//          P · a_zero / a_i, which is 0 but keeps its derivative in a_zero (= P / a_i);
//   k = 2: at each zero, P times the other zero; elsewhere 0 (its derivatives are 0 too);
//   k > 2: 0, with first and second derivatives 0.
Tensor prod(const Tensor& a) {
  Tensor out = prod_kernel(a);
  return detail::record(
      "prod", out, {&a}, [a = detail::SavedTensor(a)](const Tensor& g) -> Gradients {
        const Tensor& x = a.unpack();
        if (!is_floating(x.dtype())) return {Tensor()};
        const Tensor is_zero = eq(x, 0.0);
        const auto zeros_count = static_cast<int64_t>(sum(is_zero).item());
        if (zeros_count == 0) return {g * prod(x) / x};
        if (zeros_count > 2) return {zeros_like(x) * g};
        const Tensor nonzero = where(is_zero, scalar(1.0, {.dtype = x.dtype()}), x);
        const Tensor product = prod(nonzero);
        const Tensor zero_values = sum(x * is_zero);  // 0, with the zeros' history
        if (zeros_count == 1) return {g * where(is_zero, product, product * zero_values / nonzero)};
        return {g * where(is_zero, product * (zero_values - x), scalar(0.0, {.dtype = x.dtype()}))};
      });
}

// var = sum((a - mean(a))²) / (n - 1), written with ops so both derivatives come from theirs.
Tensor var(const Tensor& a) {
  if (!is_floating(a.dtype()))
    throw Error("var: expects a floating tensor, got i64 (convert with .to(tg::f32))");
  const double n = static_cast<double>(a.numel());
  return square(a - mean(a)).sum() / (n - 1.0);
}

Tensor var(const Tensor& a, int64_t dim, bool unbiased, bool keepdim) {
  if (!is_floating(a.dtype()))
    throw Error("var: expects a floating tensor, got i64 (convert with .to(tg::f32))");
  const int64_t d = checked_dim("var", a, dim);
  const double n = static_cast<double>(a.shape()[static_cast<size_t>(d)]);
  return square(a - mean(a, d, true)).sum(d, keepdim) / (unbiased ? n - 1.0 : n);
}

Tensor std(const Tensor& a) { return sqrt(var(a)); }
Tensor std(const Tensor& a, int64_t dim, bool unbiased, bool keepdim) {
  return sqrt(var(a, dim, unbiased, keepdim));
}

// d‖a‖_p/da_i = sign(a_i)·|a_i|^(p-1) / ‖a‖_p^(p-1), taken as 0 where ‖a‖_p = 0 (PyTorch's
// subgradient). p = 1 is sum(|a|) and p = ∞ is max(|a|), whose own backwards apply.
Tensor norm(const Tensor& a_in, double p) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  if (!is_floating(a.dtype()))
    throw Error("norm: expects a floating tensor, got i64 (convert with .to(tg::f32))");
  if (!(p >= 1.0))
    throw Error(fmt::format("norm: p must be >= 1 or infinity, got {} (shape {})", p,
                            format_shape(a.shape())));
  if (p == 1.0) return sum(abs(a));
  if (std::isinf(p)) return max(abs(a));
  Tensor out = detail::dispatch_floating("norm", a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    // Scaled by the largest magnitude, so that squares of 1e200 do not overflow.
    double largest = 0;
    for (int64_t i = 0, end = a.numel(); i < end; ++i)
      largest = std::max(largest, std::abs(static_cast<double>(x[i])));
    double total = 0;
    if (largest > 0 && std::isfinite(largest))
      for (int64_t i = 0, end = a.numel(); i < end; ++i)
        total += std::pow(std::abs(static_cast<double>(x[i])) / largest, p);
    Tensor result = detail::empty({}, a.dtype());
    *detail::data_of<T>(result) =
        static_cast<T>(std::isfinite(largest) ? largest * std::pow(total, 1.0 / p) : largest);
    return result;
  });
  return detail::record(
      "norm", out, {&a},
      [a = detail::SavedTensor(a), p, y = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        const Tensor& x = a.unpack();
        const Tensor n = y.value([&] { return norm(x, p); });
        const Tensor one = scalar(1.0, {.dtype = n.dtype()});
        const Tensor safe = where(eq(n, 0.0), one, n);
        if (p == 2.0) return {g * x / safe};
        const Tensor sign = gt(x, 0.0) - lt(x, 0.0);
        return {g * sign * pow(abs(x), p - 1.0) / pow(safe, p - 1.0)};
      });
}

namespace {

// Running sums along `dim`, from the front or (reverse) from the back.
Tensor cumsum_kernel(const Tensor& a_in, int64_t d, bool reverse) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::dense_values(a_in, a_holder);
  const detail::DimSplit s = detail::split_at(a.shape(), d);
  return detail::dispatch(a.dtype(), [&]<class T>() {
    Tensor out = detail::empty(a.shape(), a.dtype());
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t i = 0; i < s.inner; ++i) {
        Accumulator<T> total = 0;
        for (int64_t step = 0; step < s.size; ++step) {
          const int64_t k = reverse ? s.size - 1 - step : step;
          const int64_t at = (outer * s.size + k) * s.inner + i;
          total += x[at];
          o[at] = static_cast<T>(total);
        }
      }
    return out;
  });
}

// The running sums from the back, cumsum's adjoint (and cumsum is its adjoint).
Tensor reverse_cumsum(const Tensor& a, int64_t d);

}  // namespace

// d cumsum(a)/da: the gradient summed from the back (out[i] depends on a[j] for j <= i)
Tensor cumsum(const Tensor& a, int64_t dim) {
  if (a.defined() && a.dim() == 0) {  // PyTorch: the running sum of one value is that value
    if (dim != 0 && dim != -1)
      throw Error(fmt::format(
          "cumsum: dim {} is out of range for a 0-D tensor of shape [] (only 0 and -1 are valid)",
          dim));
    Tensor out = detail::empty({}, a.dtype());
    detail::dispatch(a.dtype(),
                     [&]<class T>() { *detail::data_of<T>(out) = *detail::data_of<T>(a); });
    return detail::record("cumsum", out, {&a}, [](const Tensor& g) -> Gradients { return {g}; });
  }
  const int64_t d = checked_dim("cumsum", a, dim);
  Tensor out = cumsum_kernel(a, d, false);
  return detail::record("cumsum", out, {&a},
                        [d](const Tensor& g) -> Gradients { return {reverse_cumsum(g, d)}; });
}

namespace {

Tensor reverse_cumsum(const Tensor& a, int64_t d) {
  Tensor out = cumsum_kernel(a, d, true);
  return detail::record("reverse_cumsum", out, {&a},
                        [d](const Tensor& g) -> Gradients { return {cumsum(g, d)}; });
}

}  // namespace

}  // namespace tg
