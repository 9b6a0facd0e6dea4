// Triangles and diagonals: tril, triu, diag (vector to matrix and back), diag_embed and
// tril_indices, each differentiable through the ops it is written with.
#include <fmt/format.h>

#include "kernels.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// 1 where the element (row, column) of the last two dims is kept, as an i64 [rows, cols].
Tensor triangle_mask(const char* op, const Tensor& a, int64_t k, bool lower) {
  if (a.dim() < 2)
    throw Error(
        fmt::format("{}: expects at least 2 dims, got shape {}", op, format_shape(a.shape())));
  const int64_t rows = a.size(-2), cols = a.size(-1);
  Tensor mask = detail::empty({rows, cols}, DType::i64);
  int64_t* m = detail::data_of<int64_t>(mask);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) m[r * cols + c] = lower ? c - r <= k : c - r >= k;
  return mask;
}

// `values` (any shape, n elements) added into zeros of `shape` at the flat `positions` [n].
Tensor place(const Tensor& values, const Tensor& positions, const Shape& shape) {
  const Tensor flat = zeros({shape_numel(shape)}, {.dtype = values.dtype()});
  return reshape(scatter_add(flat, 0, positions, reshape(values, {-1})), shape);
}

}  // namespace

// d tril(a)/da: the gradient where the triangle is kept (where's routing), else 0
Tensor tril(const Tensor& a, int64_t k) {
  return where(triangle_mask("tril", a, k, true), a, scalar(0.0, {.dtype = a.dtype()}));
}

Tensor triu(const Tensor& a, int64_t k) {
  return where(triangle_mask("triu", a, k, false), a, scalar(0.0, {.dtype = a.dtype()}));
}

Tensor diag(const Tensor& a, int64_t k) {
  if (a.dim() == 2) return diagonal(a, k, 0, 1).clone();
  if (a.dim() != 1)
    throw Error(
        fmt::format("diag: expects a 1-D or 2-D tensor, got shape {}", format_shape(a.shape())));
  const int64_t n = a.numel(), size = n + (k < 0 ? -k : k);
  Tensor positions = detail::empty({n}, DType::i64);
  int64_t* p = detail::data_of<int64_t>(positions);
  for (int64_t i = 0; i < n; ++i)
    p[i] = (i + std::max<int64_t>(0, -k)) * size + i + std::max<int64_t>(0, k);
  return place(a, positions, {size, size});
}

Tensor diag_embed(const Tensor& a) {
  if (a.dim() == 0) throw Error("diag_embed: expects at least 1 dim, got a 0-D tensor (shape [])");
  const int64_t n = a.size(-1), count = a.numel();
  Tensor positions = detail::empty({count}, DType::i64);
  int64_t* p = detail::data_of<int64_t>(positions);
  for (int64_t j = 0; j < count; ++j) {
    const int64_t matrix = j / n, i = j % n;
    p[j] = matrix * n * n + i * n + i;
  }
  Shape shape = a.shape();
  shape.push_back(n);
  return place(a, positions, shape);
}

Tensor tril_indices(int64_t rows, int64_t cols, int64_t offset) {
  if (rows < 0 || cols < 0)
    throw Error(fmt::format("tril_indices: rows {} and cols {} must not be negative", rows, cols));
  std::vector<int64_t> row, col;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols && c - r <= offset; ++c) {
      row.push_back(r);
      col.push_back(c);
    }
  const auto n = static_cast<int64_t>(row.size());
  Tensor out = detail::empty({2, n}, DType::i64);
  int64_t* o = detail::data_of<int64_t>(out);
  std::copy(row.begin(), row.end(), o);
  std::copy(col.begin(), col.end(), o + n);
  return out;
}

}  // namespace tg
