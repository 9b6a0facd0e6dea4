// Indexing ops: select and slice, index_select and its adjoint index_add, gather and its adjoint
// scatter_add.
#include <fmt/format.h>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

void check_index_dtype(const char* op, const Tensor& index) {
  if (index.dtype() != DType::i64)
    throw Error(fmt::format("{}: index must be i64, got {} of shape {}", op,
                            dtype_name(index.dtype()), format_shape(index.shape())));
}

void check_in_range(const char* op, int64_t i, int64_t size, int64_t dim, const Shape& shape) {
  if (i < 0 || i >= size)  // negative indices are errors, as in PyTorch's index_select/gather
    throw Error(fmt::format("{}: index {} is out of range for dim {} of shape {}", op, i, dim,
                            format_shape(shape)));
}

// base with source's slices added at `index` along dim (the adjoint of index_select).
Tensor index_add(const Tensor& base, int64_t dim, const Tensor& index, const Tensor& source);

}  // namespace

// d index_select(a)/da: the gradient added back at the selected positions
Tensor index_select(const Tensor& a_in, int64_t dim, const Tensor& index_in) {
  Tensor a_holder, index_holder;
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  const Tensor& index = detail::dense_values(index_in, index_holder);
  check_index_dtype("index_select", index);
  if (index.dim() > 1)
    throw Error(
        fmt::format("index_select: index must be 1-D, got shape {}", format_shape(index.shape())));
  const int64_t d = detail::canonical_dim("index_select", dim, a.dim(), a.shape());
  const detail::DimSplit s = detail::split_at(a.shape(), d);
  const int64_t* idx = detail::data_of<int64_t>(index);
  for (int64_t k = 0, end = index.numel(); k < end; ++k)
    check_in_range("index_select", idx[k], s.size, dim, a.shape());
  Shape shape = a.shape();
  shape[static_cast<size_t>(d)] = index.numel();
  Tensor out = detail::empty(shape, a.dtype());
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t k = 0, end = index.numel(); k < end; ++k) {
        const int64_t row = idx[k];
        const T* from = x + (outer * s.size + row) * s.inner;
        T* to = o + (outer * index.numel() + k) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) to[i] = from[i];
      }
  });
  return detail::record(
      "index_select", out, {&a},
      [shape = a.shape(), d, index = detail::SavedTensor(index)](const Tensor& g) -> Gradients {
        return {index_add(zeros(shape, {.dtype = g.dtype()}), d, index.unpack(), g)};
      });
}

namespace {

// d index_add/dbase = 1, d index_add/dsource: the gradient selected at `index`
Tensor index_add(const Tensor& base, int64_t d, const Tensor& index_in, const Tensor& source) {
  Tensor index_holder;
  const Tensor& index = detail::dense_values(index_in, index_holder);
  Tensor out = base.detach().clone();
  const detail::DimSplit s = detail::split_at(base.shape(), d);
  const int64_t* idx = detail::data_of<int64_t>(index);
  detail::dispatch(out.dtype(), [&]<class T>() {
    Tensor holder;
    const Tensor& src = detail::dense_as(source, out.dtype(), holder);
    const T* x = detail::data_of<T>(src);
    T* o = detail::data_of<T>(out);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t k = 0, end = index.numel(); k < end; ++k) {
        const int64_t row = idx[k];
        T* to = o + (outer * s.size + row) * s.inner;
        const T* from = x + (outer * index.numel() + k) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) to[i] += from[i];
      }
  });
  return detail::record("index_add", out, {&base, &source},
                        [d, index = detail::SavedTensor(index)](const Tensor& g) -> Gradients {
                          return {g, index_select(g, d, index.unpack())};
                        });
}

// Checks gather/scatter_add's index against the data it addresses (PyTorch's rules).
void check_gather_index(const char* op, const Tensor& a, int64_t d, const Tensor& index) {
  check_index_dtype(op, index);
  if (index.dim() != a.dim())
    throw Error(fmt::format("{}: index of shape {} must have as many dims as the input {}", op,
                            format_shape(index.shape()), format_shape(a.shape())));
  for (int64_t i = 0; i < a.dim(); ++i) {
    const auto u = static_cast<size_t>(i);
    if (i != d && index.shape()[u] > a.shape()[u])
      throw Error(fmt::format("{}: index of shape {} is larger than the input {} at dim {}", op,
                              format_shape(index.shape()), format_shape(a.shape()), i));
  }
  const int64_t* idx = detail::data_of<int64_t>(index);
  for (int64_t k = 0, end = index.numel(); k < end; ++k)
    check_in_range(op, idx[k], a.shape()[static_cast<size_t>(d)], d, a.shape());
}

// Calls f(index_position, data_offset) for every element of `index`, where data_offset is the
// element of a tensor of `shape` it addresses along dim d.
template <class F>
void for_each_gathered(const Shape& shape, int64_t d, const Tensor& index, F f) {
  const int64_t* idx = detail::data_of<int64_t>(index);
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  const Shape data_strides = strides;
  strides[static_cast<size_t>(d)] = 0;  // the index supplies the position along d
  const Shape walk[1] = {strides};
  detail::for_each_strided(index.shape(), walk, [&](int64_t i, const int64_t* off) {
    const int64_t row = idx[i];
    f(i, off[0] + row * data_strides[static_cast<size_t>(d)]);
  });
}

}  // namespace

// d gather(a)/da: the gradient scattered (added) back to where it was gathered from
Tensor gather(const Tensor& a_in, int64_t dim, const Tensor& index_in) {
  Tensor a_holder, index_holder;
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  const Tensor& index = detail::dense_values(index_in, index_holder);
  const int64_t d = detail::canonical_dim("gather", dim, a.dim(), a.shape());
  check_gather_index("gather", a, d, index);
  Tensor out = detail::empty(index.shape(), a.dtype());
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    for_each_gathered(a.shape(), d, index, [&](int64_t i, int64_t from) { o[i] = x[from]; });
  });
  return detail::record(
      "gather", out, {&a},
      [shape = a.shape(), d, index = detail::SavedTensor(index)](const Tensor& g) -> Gradients {
        return {scatter_add(zeros(shape, {.dtype = g.dtype()}), d, index.unpack(), g)};
      });
}

// d scatter_add/da = 1, d scatter_add/dsource: the gradient gathered at `index`
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index_in, const Tensor& source) {
  Tensor index_holder;
  const Tensor& index = detail::dense_values(index_in, index_holder);
  const int64_t d = detail::canonical_dim("scatter_add", dim, a.dim(), a.shape());
  check_gather_index("scatter_add", a, d, index);
  if (source.shape() != index.shape())
    throw Error(fmt::format("scatter_add: source of shape {} must have the index's shape {}",
                            format_shape(source.shape()), format_shape(index.shape())));
  Tensor holder;
  const Tensor& src = detail::dense_as(source, a.dtype(), holder);
  Tensor out = a.detach().clone();
  detail::dispatch(a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(src);
    T* o = detail::data_of<T>(out);
    for_each_gathered(a.shape(), d, index, [&](int64_t i, int64_t to) { o[to] += x[i]; });
  });
  return detail::record("scatter_add", out, {&a, &source},
                        [d, index = detail::SavedTensor(index)](const Tensor& g) -> Gradients {
                          return {g, gather(g, d, index.unpack())};
                        });
}

Tensor select(const Tensor& a, int64_t dim, int64_t index) {
  const int64_t d = detail::canonical_dim("select", dim, a.dim(), a.shape());
  const int64_t size = a.shape()[static_cast<size_t>(d)];
  if (index < -size || index >= size)
    throw Error(fmt::format("select: index {} is out of range for dim {} of shape {}", index, dim,
                            format_shape(a.shape())));
  return squeeze(narrow(a, d, index < 0 ? index + size : index, 1), d);
}

}  // namespace tg
