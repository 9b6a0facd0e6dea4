// The fused loss ops behind tg::nn::functional (cross-entropy, nll, binary cross-entropy).
#pragma once

#include <cstdint>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {

/// How a fused loss op reduces its per-sample terms (tg::F::Reduction maps onto it).
enum class LossReduction { mean, sum, none };

/// Softmax cross-entropy of logits [N, C] (or [C] with a 0-D target) against i64 class indices,
/// with PyTorch's per-class `weight` (undefined: all 1), `ignore_index` and `label_smoothing`;
/// `mean` divides by the summed weight of the counted targets. One record; errors name
/// "cross_entropy". The loss names its arguments as tg::F::cross_entropy does.
Tensor cross_entropy_loss(const Tensor& logits, const Tensor& target, const Tensor& weight,
                          int64_t ignore_index, LossReduction reduction, double label_smoothing);

/// Negative log-likelihood −weight[y]·log_probs[i, y] of log-probabilities [N, C] (or [C]),
/// with tg::F::nll_loss's weight, ignore_index and weighted mean. One record.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                int64_t ignore_index, LossReduction reduction);

/// Elementwise −(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)); probs must lie in [0, 1].
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target);

/// max(x, 0) − x·y + log1p(exp(−|x|)) per element, never the log of 0, reduced as asked (the
/// mean over every element, their sum, or the elementwise terms): one record, whose plain
/// backward is one pass.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        LossReduction reduction = LossReduction::none);

}  // namespace tg::detail
