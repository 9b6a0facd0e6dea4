// Shape ops: views (reshape and its kin), reorderings (transpose, permute), joins and splits
// (cat, stack, narrow, split, chunk) and broadcasting (broadcast_to, expand, sum_to).
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

// d flatten(a)/da: the gradient reshaped back
Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim) {
  if (a.dim() == 0) {  // as PyTorch: dims 0 and -1 of a 0-D tensor, giving shape [1]
    detail::canonical_dim("flatten", start_dim, 1, a.shape());
    detail::canonical_dim("flatten", end_dim, 1, a.shape());
    return reshape(a, {1});
  }
  const int64_t first = detail::canonical_dim("flatten", start_dim, a.dim(), a.shape());
  const int64_t last = detail::canonical_dim("flatten", end_dim, a.dim(), a.shape());
  if (first > last)
    throw Error(fmt::format("flatten: start_dim {} comes after end_dim {} for shape {}", start_dim,
                            end_dim, format_shape(a.shape())));
  Shape shape;
  for (int64_t i = 0; i < a.dim(); ++i) {
    const int64_t size = a.shape()[static_cast<size_t>(i)];
    if (i > first && i <= last)
      shape.back() *= size;
    else
      shape.push_back(size);
  }
  return reshape(a, shape);
}

// d permute(a, dims)/da: the gradient permuted by the inverse of dims
Tensor permute(const Tensor& a, const Shape& dims) {
  if (static_cast<int64_t>(dims.size()) != a.dim())
    throw Error(fmt::format("permute: {} dims given for a tensor of shape {}", dims.size(),
                            format_shape(a.shape())));
  std::vector<int64_t> canonical(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    canonical[i] = detail::canonical_dim("permute", dims[i], a.dim(), a.shape());
    if (seen[static_cast<size_t>(canonical[i])])
      throw Error(fmt::format("permute: dims {} repeat dim {} (shape {})", format_shape(dims),
                              canonical[i], format_shape(a.shape())));
    seen[static_cast<size_t>(canonical[i])] = true;
  }
  const std::vector<int64_t> input_strides = contiguous_strides(a.shape());
  Shape shape(dims.size()), inverse(dims.size());
  std::vector<int64_t> strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    const auto from = static_cast<size_t>(canonical[i]);
    shape[i] = a.shape()[from];
    strides[i] = input_strides[from];
    inverse[from] = static_cast<int64_t>(i);
  }
  Tensor out = strided_copy(a, shape, strides);
  return detail::record("permute", out, {&a},
                        [inverse](const Tensor& g) -> Gradients { return {permute(g, inverse)}; });
}

Tensor expand(const Tensor& a, const Shape& shape) {
  if (shape.size() < a.shape().size())
    throw Error(fmt::format("expand: cannot expand shape {} to fewer dims {}",
                            format_shape(a.shape()), format_shape(shape)));
  Shape target = shape;
  const size_t lead = shape.size() - a.shape().size();
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t own = i < lead ? -2 : a.shape()[i - lead];
    if (shape[i] == -1 && own == -2)
      throw Error(fmt::format("expand: -1 is not allowed for the new leading dim {} in {}", i,
                              format_shape(shape)));
    if (shape[i] == -1) target[i] = own;
    if (target[i] < 0 || (own != -2 && own != 1 && own != target[i]))
      throw Error(fmt::format("expand: cannot expand shape {} to {} (dim {})",
                              format_shape(a.shape()), format_shape(shape), i));
  }
  return broadcast_to(a, target);  // whose backward sums the gradient back
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  if (tensors.empty()) throw Error("stack: expects at least one tensor");
  const Shape& first = tensors.front().shape();
  const int64_t d = detail::canonical_dim("stack", dim, tensors.front().dim() + 1, first);
  std::vector<Tensor> pieces;
  for (const Tensor& t : tensors) {
    if (t.shape() != first) {
      std::vector<std::string> shapes;
      for (const Tensor& u : tensors) shapes.push_back(format_shape(u.shape()));
      throw Error(
          fmt::format("stack: every tensor must have one shape, got {}", fmt::join(shapes, ", ")));
    }
    pieces.push_back(unsqueeze(t, d));
  }
  return cat(pieces, d);
}

std::vector<Tensor> split(const Tensor& a, int64_t size, int64_t dim) {
  const int64_t d = detail::canonical_dim("split", dim, a.dim(), a.shape());
  const int64_t length = a.shape()[static_cast<size_t>(d)];
  if (size < 0 || (size == 0 && length != 0))
    throw Error(fmt::format("split: size {} must be positive (dim {} of shape {})", size, dim,
                            format_shape(a.shape())));
  if (length == 0) return {a};  // as PyTorch: one empty piece
  std::vector<Tensor> pieces;
  for (int64_t start = 0; start < length; start += size)
    pieces.push_back(narrow(a, d, start, std::min(size, length - start)));
  return pieces;
}

std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim) {
  if (chunks <= 0)
    throw Error(fmt::format("chunk: chunks must be positive, got {} (shape {})", chunks,
                            format_shape(a.shape())));
  const int64_t d = detail::canonical_dim("chunk", dim, a.dim(), a.shape());
  const int64_t length = a.shape()[static_cast<size_t>(d)];
  // PyTorch's rule: pieces of ceil(length / chunks), so there may be fewer than `chunks`.
  return split(a, (length + chunks - 1) / chunks, d);
}

}  // namespace tg
