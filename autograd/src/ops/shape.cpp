// Shape ops: views (reshape and its kin), reorderings (transpose, permute), joins and splits
// (cat, stack, narrow, split, chunk) and broadcasting (broadcast_to, expand, sum_to).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <optional>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// The strides that read `old_strides`' elements in `shape`, or none when no strides can (PyTorch's
// rule for view: each run of old dims merged or split must be contiguous within itself).
std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides,
                                  const Shape& shape) {
  if (shape_numel(old_shape) == 0 || old_shape.empty() || shape.empty())
    return detail::contiguous_strides(shape);  // nothing to read, or one element
  Shape strides(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    const auto ud = static_cast<size_t>(d);
    tensor_numel *= old_shape[ud];
    // the end of a contiguous chunk of old dims
    if (d == 0 ||
        (old_shape[ud - 1] != 1 && old_strides[ud - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 &&
             (view_numel < tensor_numel || shape[static_cast<size_t>(view_d)] == 1)) {
        strides[static_cast<size_t>(view_d)] = view_numel * chunk_base_stride;
        view_numel *= shape[static_cast<size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[ud - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

// A view of `a` with another shape of the same numel, recorded as `op`: `strides` read a's
// elements in that shape.
Tensor view_as(const char* op, const Tensor& a, const Shape& shape, const Shape& strides) {
  Tensor out = detail::make_view(a, shape, strides, a.storage_offset());
  return detail::record(op, out, {&a}, [input_shape = a.shape()](const Tensor& g) -> Gradients {
    return {reshape(g, input_shape)};
  });
}

// Where each element of a view with this geometry sits in a contiguous tensor of the input's
// shape (geometry computed for that contiguous layout): an i64 [numel] index for the backward.
Tensor view_positions(const Shape& shape, const Shape& strides, int64_t offset) {
  Tensor index = detail::empty({shape_numel(shape)}, DType::i64);
  int64_t* idx = detail::data_of<int64_t>(index);
  const Shape walk[1] = {strides};
  detail::for_each_strided(shape, walk,
                           [&](int64_t i, const int64_t* off) { idx[i] = offset + off[0]; });
  return index;
}

// The backward of a view whose element i is element positions[i] of its input (row-major): the
// gradient added into zeros of the input's shape. Linear in g, so differentiable again.
Tensor scatter_back(const Tensor& g, const Shape& input_shape, const Tensor& positions) {
  const Tensor flat = zeros({shape_numel(input_shape)}, {.dtype = g.dtype()});
  return reshape(scatter_add(flat, 0, positions, reshape(g, {-1})), input_shape);
}

// A view's sizes, strides and storage offset.
struct Geometry {
  Shape shape, strides;
  int64_t offset = 0;
};

// The view `geometry` (a function of the input's Geometry) of `a`, recorded as `op` with the
// scatter backward: the same function applied to a contiguous layout of a's shape says where
// each element of the view came from.
template <class F>
Tensor strided_view(const char* op, const Tensor& a, F geometry) {
  const Geometry view = geometry(Geometry{a.shape(), a.strides(), a.storage_offset()});
  Tensor out = detail::make_view(a, view.shape, view.strides, view.offset);
  if (!detail::should_record({&a})) return out;
  const Geometry dense = geometry(Geometry{a.shape(), detail::contiguous_strides(a.shape()), 0});
  return detail::record(op, out, {&a},
                        [input_shape = a.shape(), positions = detail::SavedTensor(view_positions(
                                                      dense.shape, dense.strides, dense.offset))](
                            const Tensor& g) -> Gradients {
                          return {scatter_back(g, input_shape, positions.unpack())};
                        });
}

}  // namespace

namespace {
// `shape` with its -1 inferred, or an Error naming `op` when a's elements cannot take it.
Shape infer_shape(const char* op, const Tensor& a, const Shape& shape) {
  Shape target = shape;
  int64_t known = 1, inferred = -1;
  bool known_overflows = false, known_has_zero = false;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == -1) {
      if (inferred >= 0)
        throw Error(fmt::format("{}: {} -> {}: only one -1 allowed", op, format_shape(a.shape()),
                                format_shape(shape)));
      inferred = static_cast<int64_t>(i);
    } else if (target[i] < 0) {
      throw Error(fmt::format("{}: {} -> {}: negative size", op, format_shape(a.shape()),
                              format_shape(shape)));
    } else if (target[i] == 0) {
      known_has_zero = true;
    } else if (__builtin_mul_overflow(known, target[i], &known)) {
      known_overflows = true;  // no tensor has that many elements; reported below
    }
  }
  if (known_has_zero) known = 0;
  if (known_overflows && !known_has_zero)
    throw Error(fmt::format("{}: cannot view {} elements of shape {} as {}", op, a.numel(),
                            format_shape(a.shape()), format_shape(shape)));
  if (inferred >= 0 && known != 0 && a.numel() % known == 0)
    target[static_cast<size_t>(inferred)] = a.numel() / known;
  if (shape_numel(target) != a.numel() || (inferred >= 0 && known == 0))
    throw Error(fmt::format("{}: cannot view {} elements of shape {} as {}", op, a.numel(),
                            format_shape(a.shape()), format_shape(shape)));
  return target;
}
}  // namespace

// d reshape(a)/da: the gradient reshaped back. A view when a's strides allow it, else a copy.
Tensor reshape(const Tensor& a, const Shape& shape) {
  const Shape target = infer_shape("reshape", a, shape);
  if (target == a.shape()) return a;
  if (std::optional<Shape> strides = view_strides(a.shape(), a.strides(), target))
    return view_as("reshape", a, target, *strides);
  Tensor out = detail::alias_with_shape(detail::dense_copy(a), target);
  return detail::record("reshape", out, {&a},
                        [input_shape = a.shape()](const Tensor& g) -> Gradients {
                          return {reshape(g, input_shape)};
                        });
}

Tensor Tensor::view(const Shape& shape) const {
  const Shape target = infer_shape("view", *this, shape);
  const std::optional<Shape> viewed = view_strides(this->shape(), this->strides(), target);
  if (!viewed)
    throw Error(fmt::format(
        "view: size {} is not compatible with the input's shape {} and strides {} (at least one "
        "dimension spans across two contiguous subspaces); use reshape() instead",
        format_shape(shape), format_shape(this->shape()), format_shape(this->strides())));
  return view_as("view", *this, target, *viewed);
}

// d unsqueeze(a)/da: the gradient reshaped back
Tensor unsqueeze(const Tensor& a, int64_t dim) {
  const int64_t d = detail::canonical_dim("unsqueeze", dim, a.dim() + 1, a.shape());
  Shape shape = a.shape(), strides = a.strides();
  const auto ud = static_cast<size_t>(d);
  const int64_t stride = ud < shape.size() ? shape[ud] * strides[ud] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return view_as("unsqueeze", a, shape, strides);
}

// d squeeze(a)/da: the gradient reshaped back
Tensor squeeze(const Tensor& a, int64_t dim) {
  if (detail::is_scalar_dim("squeeze", dim, a)) return a;  // as PyTorch: nothing to squeeze
  const int64_t d = detail::canonical_dim("squeeze", dim, a.dim(), a.shape());
  if (a.shape()[static_cast<size_t>(d)] != 1) return a;  // as PyTorch: a no-op unless size 1
  Shape shape = a.shape(), strides = a.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return view_as("squeeze", a, shape, strides);
}

// d transpose(a)/da: the gradient transposed back
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1) {
  // PyTorch accepts dims 0 and -1 of a 0-D tensor; the result is the tensor itself.
  if (detail::is_scalar_dim("transpose", dim0, a) && detail::is_scalar_dim("transpose", dim1, a))
    return a;
  const int64_t d0 = detail::canonical_dim("transpose", dim0, a.dim(), a.shape());
  const int64_t d1 = detail::canonical_dim("transpose", dim1, a.dim(), a.shape());
  Shape shape = a.shape(), strides = a.strides();
  std::swap(shape[static_cast<size_t>(d0)], shape[static_cast<size_t>(d1)]);
  std::swap(strides[static_cast<size_t>(d0)], strides[static_cast<size_t>(d1)]);
  Tensor out = detail::make_view(a, shape, strides, a.storage_offset());
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
    Tensor holder;
    const Tensor& part = detail::dense_as(t, dtype, holder);
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
  Shape shape = a.shape(), strides = a.strides();
  shape[static_cast<size_t>(d)] = length;
  Tensor out = detail::make_view(a, shape, strides,
                                 a.storage_offset() + start * strides[static_cast<size_t>(d)]);
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
  Tensor out = detail::make_view(a, shape, detail::broadcast_strides_of(*a.impl(), shape),
                                 a.storage_offset());
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
    const T* x = static_cast<const T*>(a.impl()->data);  // read through its strides below
    T* o = detail::data_of<T>(out);
    if (out.numel() == 1 && a.is_contiguous()) {  // the common scalar case: a plain sum
      T total = 0;
      for (int64_t i = 0, end = a.numel(); i < end; ++i) total += x[i];
      o[0] = total;
      return;
    }
    // A strided input (a broadcast gradient, say) is read in place, never copied.
    const Shape walk[2] = {detail::broadcast_strides(shape, a.shape()), a.strides()};
    detail::for_each_strided(a.shape(), walk,
                             [&](int64_t /*i*/, const int64_t* off) { o[off[0]] += x[off[1]]; });
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
  const Shape input_strides = a.strides();
  Shape shape(dims.size()), inverse(dims.size());
  std::vector<int64_t> strides(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    const auto from = static_cast<size_t>(canonical[i]);
    shape[i] = a.shape()[from];
    strides[i] = input_strides[from];
    inverse[from] = static_cast<int64_t>(i);
  }
  Tensor out = detail::make_view(a, shape, strides, a.storage_offset());
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

// d slice(a)/da: the gradient placed back between zeros
Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step) {
  const int64_t d = detail::canonical_dim("slice", dim, a.dim(), a.shape());
  if (step <= 0)
    throw Error(fmt::format("slice: step must be positive, got {} (shape {})", step,
                            format_shape(a.shape())));
  const int64_t size = a.shape()[static_cast<size_t>(d)];
  // Python's rule: negative bounds count from the end, then both are clamped to [0, size].
  auto clamp_bound = [size](int64_t bound) {
    if (bound < 0) bound = bound < -size ? 0 : bound + size;
    return bound > size ? size : bound;
  };
  const int64_t first = clamp_bound(start);
  const int64_t last = std::max(first, clamp_bound(end));
  if (step == 1) return narrow(a, d, first, last - first);
  const auto ud = static_cast<size_t>(d);
  return strided_view("slice", a, [&](const Geometry& in) {
    Geometry out = in;
    out.shape[ud] = (last - first + step - 1) / step;
    out.offset += first * in.strides[ud];
    out.strides[ud] *= step;
    return out;
  });
}

std::vector<Tensor> unbind(const Tensor& a, int64_t dim) {
  const int64_t d = detail::canonical_dim("unbind", dim, a.dim(), a.shape());
  std::vector<Tensor> pieces;
  for (int64_t i = 0; i < a.shape()[static_cast<size_t>(d)]; ++i) pieces.push_back(select(a, d, i));
  return pieces;
}

// d diagonal(a)/da: the gradient placed on the diagonal of zeros
Tensor diagonal(const Tensor& a, int64_t offset, int64_t dim1, int64_t dim2) {
  if (a.dim() < 2)
    throw Error(
        fmt::format("diagonal: expects at least 2 dims, got shape {}", format_shape(a.shape())));
  const auto d1 = static_cast<size_t>(detail::canonical_dim("diagonal", dim1, a.dim(), a.shape()));
  const auto d2 = static_cast<size_t>(detail::canonical_dim("diagonal", dim2, a.dim(), a.shape()));
  if (d1 == d2)
    throw Error(fmt::format("diagonal: dim1 and dim2 are both dim {} of shape {}", d1,
                            format_shape(a.shape())));
  return strided_view("diagonal", a, [&](const Geometry& in) {
    Geometry out;
    const int64_t rows = in.shape[d1], cols = in.shape[d2];
    const int64_t length = std::max<int64_t>(
        0, offset >= 0 ? std::min(rows, cols - offset) : std::min(rows + offset, cols));
    out.offset = in.offset;
    if (length > 0) out.offset += offset >= 0 ? offset * in.strides[d2] : -offset * in.strides[d1];
    for (size_t i = 0; i < in.shape.size(); ++i)
      if (i != d1 && i != d2) {
        out.shape.push_back(in.shape[i]);
        out.strides.push_back(in.strides[i]);
      }
    out.shape.push_back(length);
    out.strides.push_back(in.strides[d1] + in.strides[d2]);
    return out;
  });
}

// d as_strided(a)/da: the gradient added back at the storage elements each output element read
Tensor Tensor::as_strided(const Shape& sizes, const Shape& strides, int64_t storage_offset) const {
  const Tensor& a = *this;
  if (sizes.size() != strides.size() || storage_offset < 0)
    throw Error(
        fmt::format("as_strided: sizes {} and strides {} need one stride per size and a "
                    "non-negative offset (got {})",
                    format_shape(sizes), format_shape(strides), storage_offset));
  int64_t last = storage_offset;  // the furthest element the view reads
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 0 || strides[i] < 0)
      throw Error(fmt::format("as_strided: negative size or stride in sizes {}, strides {}",
                              format_shape(sizes), format_shape(strides)));
    if (sizes[i] > 0) last += (sizes[i] - 1) * strides[i];
  }
  // The elements a may read: those of the tensor it views, whose base covers its storage.
  const detail::TensorImpl& root = a.impl()->base() ? *a.impl()->base() : *a.impl();
  int64_t root_last = root.storage_offset();
  const Shape root_strides = detail::strides_of(root);
  for (size_t i = 0; i < root.shape.size(); ++i)
    if (root.shape[i] > 0) root_last += (root.shape[i] - 1) * root_strides[i];
  if (shape_numel(sizes) > 0 && (last > root_last || storage_offset < root.storage_offset()))
    throw Error(fmt::format(
        "as_strided: sizes {}, strides {} and offset {} reach element {} of a storage whose "
        "elements run from {} to {}",
        format_shape(sizes), format_shape(strides), storage_offset, last, root.storage_offset(),
        root_last));
  Tensor out = detail::make_view(a, sizes, strides, storage_offset);
  if (!detail::should_record({&a})) return out;
  // Which of a's elements (row-major) each output element reads: through a map from storage
  // element to a's index; an element outside a has no gradient to give.
  const int64_t span = root_last + 1;
  std::vector<int64_t> owner(static_cast<size_t>(span), -1);
  {
    const Shape walk[1] = {a.strides()};
    detail::for_each_strided(a.shape(), walk, [&](int64_t i, const int64_t* off) {
      owner[static_cast<size_t>(a.storage_offset() + off[0])] = i;
    });
  }
  Tensor positions = detail::empty({out.numel()}, DType::i64);
  int64_t* idx = detail::data_of<int64_t>(positions);
  const Shape walk[1] = {strides};
  detail::for_each_strided(sizes, walk, [&](int64_t i, const int64_t* off) {
    idx[i] = owner[static_cast<size_t>(storage_offset + off[0])];
  });
  for (int64_t i = 0; i < out.numel(); ++i)
    if (idx[i] < 0)
      throw Error(fmt::format(
          "as_strided: the view (sizes {}, strides {}, offset {}) reads storage elements outside "
          "the tensor of shape {} it was taken from, which has no gradient for them",
          format_shape(sizes), format_shape(strides), storage_offset, format_shape(a.shape())));
  return detail::record("as_strided", out, {&a},
                        [input_shape = a.shape(),
                         positions = detail::SavedTensor(positions)](const Tensor& g) -> Gradients {
                          return {scatter_back(g, input_shape, positions.unpack())};
                        });
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
