// TensorDataset: rows of two tensors as samples.
#include "tapegrad/data/dataset.hpp"

#include <fmt/format.h>

#include <vector>

#include "common.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::data {
namespace {

void check_rows(const char* what, std::span<const int64_t> indices, int64_t size) {
  for (const int64_t i : indices)
    if (i < 0 || i >= size)
      throw Error(
          fmt::format("TensorDataset::{}: index {} is out of range for a dataset of {} "
                      "samples",
                      what, i, size));
}

// A batch of one sample without its leading dimension of 1.
Tensor drop_first_dim(const Tensor& t) {
  const Shape& shape = t.shape();
  return t.reshape(Shape(shape.begin() + 1, shape.end()));
}

}  // namespace

TensorDataset::TensorDataset(const Tensor& X, const Tensor& y) {
  if (!X.defined() || !y.defined())
    throw Error("TensorDataset: X and y must both be defined tensors");
  if (X.dim() == 0 || y.dim() == 0 || X.shape()[0] != y.shape()[0])
    throw Error(fmt::format("TensorDataset: X {} and y {} must have the same first dimension",
                            format_shape(X.shape()), format_shape(y.shape())));
  x_ = X.detach();
  y_ = y.detach();
  size_ = X.shape()[0];
}

Batch TensorDataset::get(int64_t index) const {
  const int64_t indices[] = {index};
  check_rows("get", indices, size_);
  Batch one = get_batch(indices);
  return {drop_first_dim(one.x), drop_first_dim(one.y)};
}

Batch TensorDataset::get_batch(std::span<const int64_t> indices) const {
  check_rows("get_batch", indices, size_);
  return {detail::gather_rows(x_, indices), detail::gather_rows(y_, indices)};
}

Batch TensorDataset::slice(int64_t start, int64_t count) const {
  if (start < 0 || count < 0 || start > size_ || count > size_ - start)
    throw Error(
        fmt::format("TensorDataset::slice: rows [{}, {}) are out of range for a dataset "
                    "of {} samples",
                    start, start + count, size_));
  std::vector<int64_t> rows(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) rows[static_cast<size_t>(k)] = start + k;
  return get_batch(rows);
}

}  // namespace tg::data
