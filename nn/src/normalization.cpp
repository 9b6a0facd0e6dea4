// LayerNorm and BatchNorm1d: their parameters and buffers around tg::layer_norm and tg::batch_norm.
#include "tapegrad/nn/normalization.hpp"

#include <fmt/format.h>

#include <cmath>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg::nn {

LayerNorm::LayerNorm(Shape normalized_shape, LayerNormOptions options)
    : normalized_shape_(std::move(normalized_shape)), options_(options) {
  bool valid = !normalized_shape_.empty();
  for (int64_t size : normalized_shape_) valid = valid && size > 0;
  if (!valid)
    throw Error(fmt::format("LayerNorm: normalized_shape must be non-empty with sizes >= 1, got {}",
                            format_shape(normalized_shape_)));
  if (!(options_.eps >= 0) || !std::isfinite(options_.eps))
    throw Error(fmt::format("LayerNorm: eps must be finite and >= 0, got {}", options_.eps));
  if (options_.elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape_));
    bias = register_parameter("bias", zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& input) {
  const auto trailing = static_cast<int64_t>(normalized_shape_.size());
  bool matches = input.defined() && trailing <= input.dim();
  for (int64_t k = 0; matches && k < trailing; ++k)
    matches = input.shape()[static_cast<size_t>(input.dim() - trailing + k)] ==
              normalized_shape_[static_cast<size_t>(k)];
  if (!matches)
    throw Error(fmt::format("LayerNorm({}): input of shape {} must end with {}",
                            format_shape(normalized_shape_),
                            input.defined() ? format_shape(input.shape()) : "undefined",
                            format_shape(normalized_shape_)));
  if (weight.defined() && input.dtype() != weight.dtype())
    throw Error(fmt::format(
        "LayerNorm({}): input is {} but the layer is {}; convert with "
        ".to(tg::{}) or module.to(tg::{})",
        format_shape(normalized_shape_), dtype_name(input.dtype()), dtype_name(weight.dtype()),
        dtype_name(weight.dtype()), dtype_name(input.dtype())));
  return layer_norm(input, normalized_shape_, weight, bias, options_.eps);
}

BatchNorm1d::BatchNorm1d(int64_t num_features, BatchNormOptions options)
    : num_features_(num_features), options_(options) {
  if (num_features <= 0)
    throw Error(fmt::format("BatchNorm1d: num_features must be positive, got {}", num_features));
  if (!(options_.eps >= 0) || !std::isfinite(options_.eps))
    throw Error(fmt::format("BatchNorm1d: eps must be finite and >= 0, got {}", options_.eps));
  if (options_.momentum && !(*options_.momentum >= 0 && *options_.momentum <= 1))
    throw Error(
        fmt::format("BatchNorm1d: momentum must lie in [0, 1], got {}", *options_.momentum));
  if (options_.affine) {
    weight = register_parameter("weight", ones({num_features}));
    bias = register_parameter("bias", zeros({num_features}));
  }
  if (options_.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}));
    running_var = register_buffer("running_var", ones({num_features}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, {.dtype = DType::i64}));
  }
}

Tensor BatchNorm1d::forward(const Tensor& input) {
  if (!input.defined() || (input.dim() != 2 && input.dim() != 3) || input.size(1) != num_features_)
    throw Error(fmt::format("BatchNorm1d({}): input must be [N, {}] or [N, {}, L], got {}",
                            num_features_, num_features_, num_features_,
                            input.defined() ? format_shape(input.shape()) : "undefined"));
  const Tensor& reference = weight.defined() ? weight : running_mean;
  if (reference.defined() && input.dtype() != reference.dtype())
    throw Error(
        fmt::format("BatchNorm1d({}): input is {} but the layer is {}; convert with "
                    ".to(tg::{}) or module.to(tg::{})",
                    num_features_, dtype_name(input.dtype()), dtype_name(reference.dtype()),
                    dtype_name(reference.dtype()), dtype_name(input.dtype())));
  // As PyTorch: batch statistics in training or when nothing is tracked; the running estimates
  // are passed (and so updated) only while training with tracking on, or read in evaluation.
  const bool use_batch_stats = is_training() || !options_.track_running_stats;
  const int64_t per_channel = input.size(0) * (input.dim() == 3 ? input.size(2) : 1);
  if (use_batch_stats && per_channel <= 1)
    throw Error(
        fmt::format("BatchNorm1d({}): batch statistics need more than 1 value per "
                    "channel, got input of shape {}",
                    num_features_, format_shape(input.shape())));
  double factor = 0.0;
  if (is_training() && options_.track_running_stats) {
    int64_t& batches = num_batches_tracked.data<int64_t>()[0];
    batches += 1;
    factor = options_.momentum ? *options_.momentum : 1.0 / static_cast<double>(batches);
  }
  const bool pass_running = options_.track_running_stats;
  return batch_norm(input, pass_running ? running_mean : Tensor(),
                    pass_running ? running_var : Tensor(), weight, bias, use_batch_stats, factor,
                    options_.eps);
}

}  // namespace tg::nn
