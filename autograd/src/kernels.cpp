// Shared kernel helpers: type promotion, broadcasting, dims, dtype conversion.
#include "kernels.hpp"

#include <fmt/format.h>

namespace tg::detail {

DType promote(DType a, DType b) {
  if (a == DType::f64 || b == DType::f64) return DType::f64;
  if (a == DType::f32 || b == DType::f32) return DType::f32;
  return DType::i64;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error(fmt::format("{}: shapes {} and {} do not broadcast (size {} vs {} at dim {})", op,
                              format_shape(a), format_shape(b), da, db, i));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& target) {
  Shape strides(target.size(), 0);
  int64_t stride = 1;
  const size_t lead = target.size() - shape.size();
  for (size_t i = shape.size(); i-- > 0;) {
    strides[lead + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

Tensor as_dtype(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = empty(t.shape(), dtype);
  if (t.impl()->strided) {
    copy_values(out, t);
    return out;
  }
  dispatch(t.dtype(), [&]<class From>() {
    dispatch(dtype, [&]<class To>() {
      const From* x = data_of<From>(t);
      To* o = data_of<To>(out);
      for (int64_t i = 0, end = t.numel(); i < end; ++i) o[i] = convert_element<To>(x[i]);
    });
  });
  return out;
}

int64_t canonical_dim(const char* op, int64_t dim, int64_t ndim, const Shape& shape) {
  if (ndim == 0)
    throw Error(
        fmt::format("{}: dim {} is out of range: a 0-D tensor (shape []) has no dims", op, dim));
  if (dim < -ndim || dim >= ndim)
    throw Error(fmt::format("{}: dim {} is out of range for a tensor of shape {} (valid: {} to {})",
                            op, dim, format_shape(shape), -ndim, ndim - 1));
  return dim < 0 ? dim + ndim : dim;
}

bool is_scalar_dim(const char* op, int64_t dim, const Tensor& a) {
  if (a.dim() != 0) return false;
  if (dim == 0 || dim == -1) return true;
  throw Error(fmt::format("{}: dim {} is out of range for a 0-D tensor (valid: -1 to 0)", op, dim));
}

DimSplit split_at(const Shape& shape, int64_t dim) {
  DimSplit split;
  for (size_t i = 0; i < shape.size(); ++i) {
    const auto d = static_cast<int64_t>(i);
    if (d < dim) split.outer *= shape[i];
    if (d == dim) split.size = shape[i];
    if (d > dim) split.inner *= shape[i];
  }
  return split;
}

}  // namespace tg::detail
