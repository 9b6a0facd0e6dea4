// tg::data::Dataset, the interface a DataLoader draws from, and TensorDataset over two tensors.
#pragma once

#include <cstdint>
#include <span>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data {

/// Inputs and targets of one sample or one batch; `auto [x, y] = batch` unpacks it.
struct Batch {
  Tensor x;  ///< inputs: [batch, ...] for a batch, the sample's own shape for one sample
  Tensor y;  ///< targets, likewise
};

/// A sized collection of samples that can gather any set of them into one batch.
class Dataset {
 public:
  virtual ~Dataset() = default;
  /// Number of samples.
  virtual int64_t size() const = 0;
  /// The samples at `indices` stacked along a new first dimension, in the order given.
  virtual Batch get_batch(std::span<const int64_t> indices) const = 0;
};

/// Samples are the rows (first-dimension slices) of X and y, as torch.utils.data.TensorDataset.
///
///     tg::data::TensorDataset dataset(images, labels);   // images [n, 784], labels [n]
///     auto [x, y] = dataset.get(0);                      // x [784], y []
class TensorDataset : public Dataset {
 public:
  /// Keeps detached handles to X and y (no copy); throws tg::Error unless both have at least
  /// one dimension and the same first dimension.
  TensorDataset(const Tensor& X, const Tensor& y);

  int64_t size() const override { return size_; }
  /// Row `index` of X and of y (0 <= index < size(), else tg::Error).
  Batch get(int64_t index) const;
  /// Rows `indices` of X and y, copied; runs of consecutive indices are copied in one block.
  Batch get_batch(std::span<const int64_t> indices) const override;
  /// Rows start, ..., start + count - 1 of X and y, copied in one block.
  Batch slice(int64_t start, int64_t count) const;

  /// The whole input tensor.
  const Tensor& x() const { return x_; }
  /// The whole target tensor.
  const Tensor& y() const { return y_; }

 private:
  Tensor x_;
  Tensor y_;
  int64_t size_ = 0;
};

}  // namespace tg::data
