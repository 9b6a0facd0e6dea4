// The fused losses, public autograd ops: softmax cross-entropy, nll_loss, binary cross-entropy
// on probabilities and on logits, and mean squared error, each one record with its backward.
#pragma once

#include <cstdint>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// How a loss combines its per-element (or per-sample) terms, as PyTorch's `reduction`.
enum class Reduction {
  mean,  ///< the mean of the terms, a 0-D tensor
  sum,   ///< the sum of the terms, a 0-D tensor
  none,  ///< the terms themselves, one per element (or per sample)
};

/// A loss's per-element terms combined as `reduction` asks, by recorded ops: terms.mean(),
/// terms.sum(), or the terms themselves. For losses written on the ops:
///
///     return tg::reduce(abs(input - target), reduction);
Tensor reduce(const Tensor& terms, Reduction reduction);

/// Options of cross_entropy, PyTorch's names and defaults.
struct CrossEntropyOptions {
  Tensor weight = {};                     ///< per-class weights [C] (no gradient); undefined: all 1
  int64_t ignore_index = -100;            ///< samples with this target give no loss and no gradient
  Reduction reduction = Reduction::mean;  ///< mean divides by the summed weight of counted targets
  double label_smoothing = 0.0;  ///< ε in [0, 1]: the target becomes (1 − ε)·onehot + ε/C
};

/// Options of nll_loss, PyTorch's names and defaults.
struct NLLLossOptions {
  Tensor weight = {};                     ///< per-class weights [C] (no gradient); undefined: all 1
  int64_t ignore_index = -100;            ///< samples with this target give no loss and no gradient
  Reduction reduction = Reduction::mean;  ///< mean divides by the summed weight of counted targets
};

/// Mean squared error (input − target)², reduced; input and target must have equal shapes.
///
///     tg::Tensor loss = tg::mse_loss(model(x), y);   // 0-D, the mean
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);

/// Binary cross-entropy −(y·log p + (1 − y)·log(1 − p)) of probabilities p in [0, 1], each log
/// clamped to ≥ −100 as in PyTorch so p of exactly 0 or 1 gives finite losses and gradients.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target,
                            Reduction reduction = Reduction::mean);

/// Binary cross-entropy of sigmoid(logits), computed stably as
/// max(x, 0) − x·y + log(1 + exp(−|x|)); its gradient is sigmoid(x) − y.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction = Reduction::mean);

/// Softmax cross-entropy of logits [N, C] against class indices (i64 [N]), fused and stable
/// (logsumexp(z_i) − z_i[y_i]); a 1-D [C] input with a 0-D target is one sample.
///
///     tg::Tensor loss = tg::cross_entropy(logits, labels);  // d/dlogits = (softmax − onehot)/N
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     Reduction reduction = Reduction::mean);

/// cross_entropy with PyTorch's weight, ignore_index and label_smoothing: sample n (not ignored)
/// gives (1 − ε)·w[y_n]·(−log p_n[y_n]) + (ε/C)·Σ_c w[c]·(−log p_n[c]), and `mean` divides the
/// sum by Σ w[y_n] over the counted samples (NaN when every sample is ignored, as PyTorch).
///
///     tg::cross_entropy(logits, y, {.weight = class_weights, .label_smoothing = 0.1});
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options);

/// Negative log-likelihood −log_probs[i, target[i]] of log-probabilities [N, C] against class
/// indices (i64 [N]); `mean` divides by N. A 1-D [C] input with a 0-D target is one sample.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::mean);

/// nll_loss with PyTorch's weight and ignore_index: −w[y_n]·log_probs[n, y_n] per counted sample,
/// `mean` dividing by Σ w[y_n] over them.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NLLLossOptions& options);

}  // namespace tg
