// Shape ops: reshape (a view), squeeze/unsqueeze, transpose, cat/narrow, broadcast_to/sum_to.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// A view of `a` with another shape of the same numel, recorded as `op`.
Tensor view_as(const char* op, const Tensor& a, const Shape& shape) {
  Tensor out = detail::alias_with_shape(a, shape);
  return detail::record(op, out, {&a}, [input_shape = a.shape()](const Tensor& g) -> Gradients {
    return {reshape(g, input_shape)};
  });
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

// out[i] = a[offset(i)] over out_shape, reading `a` through `strides`.
Tensor strided_copy(const Tensor& a, const Shape& out_shape, const std::vector<int64_t>& strides) {
  Tensor out = detail::empty(out_shape, a.dtype());
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    const std::vector<int64_t> walk[1] = {strides};
    detail::for_each_strided(out_shape, walk,
                             [&](int64_t i, const int64_t* off) { o[i] = x[off[0]]; });
  });
  return out;
}

}  // namespace

// d reshape(a)/da: the gradient reshaped back
Tensor reshape(const Tensor& a, const Shape& shape) {
  Shape target = shape;
  int64_t known = 1, inferred = -1;
  bool known_overflows = false, known_has_zero = false;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (inferred >= 0)
        throw Error(fmt::format("reshape: {} -> {}: only one -1 allowed", format_shape(a.shape()),
                                format_shape(shape)));
      inferred = static_cast<int64_t>(i);
    } else if (target[i] < 0) {
      throw Error(fmt::format("reshape: {} -> {}: negative size", format_shape(a.shape()),
                              format_shape(shape)));
    } else if (target[i] == 0) {
      known_has_zero = true;
    } else if (__builtin_mul_overflow(known, target[i], &known)) {
      known_overflows = true;  // no tensor has that many elements; reported below
    }
  }
  if (known_has_zero) known = 0;
  if (known_overflows && !known_has_zero)
    throw Error(fmt::format("reshape: cannot view {} elements of shape {} as {}", a.numel(),
                            format_shape(a.shape()), format_shape(shape)));
  if (inferred >= 0 && known != 0 && a.numel() % known == 0)
    target[static_cast<size_t>(inferred)] = a.numel() / known;
  if (shape_numel(target) != a.numel() || (inferred >= 0 && known == 0))
    throw Error(fmt::format("reshape: cannot view {} elements of shape {} as {}", a.numel(),
                            format_shape(a.shape()), format_shape(shape)));
  if (target == a.shape()) return a;
  return view_as("reshape", a, target);
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
  const int64_t d = detail::canonical_dim("unsqueeze", dim, a.dim() + 1, a.shape());
  Shape shape = a.shape();
  shape.insert(shape.begin() + d, 1);
  return view_as("unsqueeze", a, shape);
}

Tensor squeeze(const Tensor& a, int64_t dim) {
  if (detail::is_scalar_dim("squeeze", dim, a)) return a;  // as PyTorch: nothing to squeeze
  const int64_t d = detail::canonical_dim("squeeze", dim, a.dim(), a.shape());
  if (a.shape()[static_cast<size_t>(d)] != 1) return a;  // as PyTorch: a no-op unless size 1
  Shape shape = a.shape();
  shape.erase(shape.begin() + d);
  return view_as("squeeze", a, shape);
}

// d transpose(a)/da: the gradient transposed back
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1) {
  // PyTorch accepts dims 0 and -1 of a 0-D tensor; the result is the tensor itself.
  if (detail::is_scalar_dim("transpose", dim0, a) && detail::is_scalar_dim("transpose", dim1, a))
    return a;
  const int64_t d0 = detail::canonical_dim("transpose", dim0, a.dim(), a.shape());
  const int64_t d1 = detail::canonical_dim("transpose", dim1, a.dim(), a.shape());
  Shape shape = a.shape();
  std::vector<int64_t> strides = contiguous_strides(a.shape());
  std::swap(shape[static_cast<size_t>(d0)], shape[static_cast<size_t>(d1)]);
  std::swap(strides[static_cast<size_t>(d0)], strides[static_cast<size_t>(d1)]);
  Tensor out = d0 == d1 ? a.clone() : strided_copy(a, shape, strides);
  return detail::record("transpose", out, {&a},
                        [d0, d1](const Tensor& g) -> Gradients { return {transpose(g, d0, d1)}; });
}

// d cat(ts)/dts[k]: the k-th slice of the gradient
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw Error("cat: expects at least one tensor");
  const Tensor& first = tensors.front();
  const int64_t d = detail::canonical_dim("cat", dim, first.dim(), first.shape());
  Shape shape = first.shape();
  DType dtype = first.dtype();
  shape[static_cast<size_t>(d)] = 0;
  for (const Tensor& t : tensors) {
    bool fits = t.dim() == first.dim();
    for (int64_t i = 0; fits && i < t.dim(); ++i)
      fits = i == d || t.shape()[static_cast<size_t>(i)] == first.shape()[static_cast<size_t>(i)];
    if (!fits) {
      std::vector<std::string> shapes;
      for (const Tensor& u : tensors) shapes.push_back(format_shape(u.shape()));
      throw Error(
          fmt::format("cat: shapes {} differ outside dim {}", fmt::join(shapes, ", "), dim));
    }
    shape[static_cast<size_t>(d)] += t.shape()[static_cast<size_t>(d)];
    dtype = detail::promote(dtype, t.dtype());
  }
  Tensor out = detail::empty(shape, dtype);
  const detail::DimSplit s = detail::split_at(shape, d);
  const auto bytes = static_cast<size_t>(element_size(dtype));
  int64_t offset = 0;  // along dim
  for (const Tensor& t : tensors) {
    const Tensor part = detail::as_dtype(t, dtype);
    const int64_t len = t.shape()[static_cast<size_t>(d)];
    const auto* src = static_cast<const char*>(part.impl()->data);
    auto* dst = static_cast<char*>(out.impl()->data);
    const auto chunk = static_cast<size_t>(len * s.inner) * bytes;
    for (int64_t outer = 0; outer < s.outer; ++outer)
      std::memcpy(dst + static_cast<size_t>((outer * s.size + offset) * s.inner) * bytes,
                  src + static_cast<size_t>(outer) * chunk, chunk);
    offset += len;
  }
  std::vector<int64_t> lengths;
  for (const Tensor& t : tensors) lengths.push_back(t.shape()[static_cast<size_t>(d)]);
  return detail::record("cat", out, tensors, [d, lengths](const Tensor& g) -> Gradients {
    Gradients grads;
    int64_t start = 0;
    for (int64_t len : lengths) {
      grads.push_back(narrow(g, d, start, len));
      start += len;
    }
    return grads;
  });
}

// d narrow(a)/da: the gradient placed back between zeros
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = detail::canonical_dim("narrow", dim, a.dim(), a.shape());
  const int64_t size = a.shape()[static_cast<size_t>(d)];
  if (start < 0 || length < 0 || start + length > size)
    throw Error(fmt::format("narrow: [{}, {}) is outside dim {} of shape {}", start, start + length,
                            dim, format_shape(a.shape())));
  Shape shape = a.shape();
  shape[static_cast<size_t>(d)] = length;
  const detail::DimSplit s = detail::split_at(a.shape(), d);
  Tensor out = detail::empty(shape, a.dtype());
  const auto bytes = static_cast<size_t>(element_size(a.dtype()));
  const auto chunk = static_cast<size_t>(length * s.inner) * bytes;
  const auto* src = static_cast<const char*>(a.impl()->data);
  auto* dst = static_cast<char*>(out.impl()->data);
  for (int64_t outer = 0; outer < s.outer; ++outer)
    std::memcpy(dst + static_cast<size_t>(outer) * chunk,
                src + static_cast<size_t>((outer * s.size + start) * s.inner) * bytes, chunk);
  return detail::record(
      "narrow", out, {&a}, [shape = a.shape(), d, start, length](const Tensor& g) -> Gradients {
        std::vector<Tensor> pieces;
        Shape before = shape, after = shape;
        before[static_cast<size_t>(d)] = start;
        after[static_cast<size_t>(d)] = shape[static_cast<size_t>(d)] - start - length;
        if (start > 0) pieces.push_back(zeros(before, {.dtype = g.dtype()}));
        pieces.push_back(g);
        if (after[static_cast<size_t>(d)] > 0) pieces.push_back(zeros(after, {.dtype = g.dtype()}));
        return {pieces.size() == 1 ? g : cat(pieces, d)};
      });
}

// d broadcast_to(a)/da: the gradient summed back to a's shape
Tensor broadcast_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  const Shape target = detail::broadcast_shapes("broadcast_to", a.shape(), shape);
  if (target != shape)
    throw Error(fmt::format("broadcast_to: cannot broadcast {} to {}", format_shape(a.shape()),
                            format_shape(shape)));
  Tensor out = strided_copy(a, shape, detail::broadcast_strides(a.shape(), shape));
  return detail::record(
      "broadcast_to", out, {&a},
      [input_shape = a.shape()](const Tensor& g) -> Gradients { return {sum_to(g, input_shape)}; });
}

// d sum_to(a)/da: the gradient broadcast back to a's shape
Tensor sum_to(const Tensor& a, const Shape& shape) {
  if (a.shape() == shape) return a;
  if (detail::broadcast_shapes("sum_to", shape, a.shape()) != a.shape())
    throw Error(fmt::format("sum_to: cannot reduce {} to {}", format_shape(a.shape()),
                            format_shape(shape)));
  Tensor out = zeros(shape, {.dtype = a.dtype()});
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    if (out.numel() == 1) {  // the common scalar case: a plain sum that vectorises
      T total = 0;
      for (int64_t i = 0, end = a.numel(); i < end; ++i) total += x[i];
      o[0] = total;
      return;
    }
    const std::vector<int64_t> walk[1] = {detail::broadcast_strides(shape, a.shape())};
    detail::for_each_strided(a.shape(), walk,
                             [&](int64_t i, const int64_t* off) { o[off[0]] += x[i]; });
  });
  return detail::record("sum_to", out, {&a},
                        [input_shape = a.shape()](const Tensor& g) -> Gradients {
                          return {broadcast_to(g, input_shape)};
                        });
}

}  // namespace tg
