// Normalisation layers: LayerNorm and BatchNorm1d, as PyTorch defines them.
#pragma once

#include <cstdint>
#include <optional>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// Options of LayerNorm, PyTorch's names and defaults.
struct LayerNormOptions {
  double eps = 1e-5;               ///< added to the variance before the square root
  bool elementwise_affine = true;  ///< learn weight (ones) and bias (zeros) of normalized_shape
};

/// Normalises over the trailing dims `normalized_shape` of its input with their mean and biased
/// variance, then scales and shifts elementwise: y = (x − E[x])/√(Var[x] + eps)·weight + bias.
/// The same in training and evaluation.
///
///     tg::nn::LayerNorm norm({128});
///     tg::Tensor y = norm(x);   // x [N, 128]: each row has mean 0 and variance ≈ 1
class LayerNorm : public Module {
 public:
  /// Throws tg::Error if normalized_shape is empty or has a size below 1, or eps < 0.
  explicit LayerNorm(Shape normalized_shape, LayerNormOptions options = {});
  /// Throws tg::Error naming the layer unless the input ends with normalized_shape.
  Tensor forward(const Tensor& input) override;

  const Shape& normalized_shape() const { return normalized_shape_; }
  const LayerNormOptions& options() const { return options_; }

  /// "weight" (ones) and "bias" (zeros) of normalized_shape; undefined without affine.
  Tensor weight;
  Tensor bias;

 private:
  Shape normalized_shape_;
  LayerNormOptions options_;
};

/// Options of BatchNorm1d, PyTorch's names and defaults.
struct BatchNormOptions {
  double eps = 1e-5;  ///< added to the variance before the square root
  /// Weight of the new batch in the running estimates; unset: their cumulative average.
  std::optional<double> momentum = 0.1;
  bool affine = true;               ///< learn weight (ones) and bias (zeros) per channel
  bool track_running_stats = true;  ///< keep running_mean/var; without, batch stats always
};

/// Batch normalisation of [N, C] or [N, C, L] per channel C, as torch.nn.BatchNorm1d: in training
/// the batch's mean and biased variance normalise and the buffers running_mean (zeros),
/// running_var (ones, the unbiased estimate) and num_batches_tracked (i64) are updated; in
/// evaluation the running estimates normalise. With track_running_stats = false there are no
/// buffers and the batch statistics are used in both modes.
///
///     tg::nn::BatchNorm1d norm(256);
///     tg::Tensor y = norm(x);   // x [N, 256]
class BatchNorm1d : public Module {
 public:
  /// Throws tg::Error unless num_features > 0, eps >= 0 and momentum (if set) is in [0, 1].
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions options = {});
  /// Throws tg::Error naming the layer unless the input is [N, C] or [N, C, L] with C features.
  Tensor forward(const Tensor& input) override;

  int64_t num_features() const { return num_features_; }
  const BatchNormOptions& options() const { return options_; }

  /// "weight" (ones) and "bias" (zeros) [C]; undefined without affine.
  Tensor weight;
  Tensor bias;
  /// Buffers "running_mean" and "running_var" [C] and "num_batches_tracked" (i64, 0-D);
  /// undefined without track_running_stats.
  Tensor running_mean;
  Tensor running_var;
  Tensor num_batches_tracked;

 private:
  int64_t num_features_;
  BatchNormOptions options_;
};

}  // namespace tg::nn
