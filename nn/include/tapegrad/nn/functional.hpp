// tg::nn::functional (alias tg::F): losses, weight penalties and functional activations.
#pragma once

#include <cstdint>
#include <vector>

#include "tapegrad/autograd/loss.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::nn::functional {

/// How a loss combines its per-element (or per-sample) terms: tg::Reduction (mean, sum, none).
using Reduction = tg::Reduction;

/// Mean absolute error: |input − target|, reduced; the gradient at input == target is 0.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);

/// Huber loss: ½d² where |d| < delta, else delta·(|d| − ½delta), with d = input − target;
/// delta must be > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta = 1.0,
                  Reduction reduction = Reduction::mean);

/// The fused losses are autograd's ops (tapegrad/autograd/loss.hpp), under the same names here.
///
///     tg::Tensor loss = tg::F::mse_loss(model(x), y);   // 0-D, the mean
using tg::mse_loss;
/// tg::binary_cross_entropy: BCE of probabilities, each log clamped at −100.
using tg::binary_cross_entropy;
/// tg::binary_cross_entropy_with_logits: BCE of sigmoid(logits), computed stably.
using tg::binary_cross_entropy_with_logits;
/// tg::cross_entropy: softmax cross-entropy against class indices, with its options.
using tg::cross_entropy;
/// tg::CrossEntropyOptions: cross_entropy's weight, ignore_index, reduction, label_smoothing.
using tg::CrossEntropyOptions;
/// tg::nll_loss: negative log-likelihood of log-probabilities, with its options.
using tg::nll_loss;
/// tg::NLLLossOptions: nll_loss's weight, ignore_index and reduction.
using tg::NLLLossOptions;

/// Kullback–Leibler divergence, pointwise target·(log target − log_input) (0 where target is 0),
/// with log_input holding log-probabilities; `mean` averages over all elements, as PyTorch's.
Tensor kl_div(const Tensor& log_input, const Tensor& target, Reduction reduction = Reduction::mean);

/// Σ|θ| over every element of every parameter, a differentiable 0-D tensor (0 for no params).
Tensor l1_penalty(const std::vector<Tensor>& params);

/// Σθ² over every element of every parameter (no ½), a differentiable 0-D tensor.
///
///     tg::Tensor loss = tg::F::cross_entropy(logits, y) + 1e-4 * tg::F::l2_penalty(params);
Tensor l2_penalty(const std::vector<Tensor>& params);

/// max(x, 0), as tg::relu.
inline Tensor relu(const Tensor& x) { return tg::relu(x); }

/// 1 / (1 + exp(−x)), as tg::sigmoid.
inline Tensor sigmoid(const Tensor& x) { return tg::sigmoid(x); }

/// The hyperbolic tangent, as tg::tanh.
inline Tensor tanh(const Tensor& x) { return tg::tanh(x); }

/// x where x > 0, slope·x elsewhere, as tg::leaky_relu.
inline Tensor leaky_relu(const Tensor& x, double slope = 0.01) { return tg::leaky_relu(x, slope); }

/// Inverted dropout: in training each element is zeroed with probability p and the rest scaled
/// by 1/(1 − p); with training false (or p = 0) the input itself. The module Dropout calls it.
///
///     h = tg::F::dropout(h, 0.2, model.is_training());
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);

/// x·Φ(x), as tg::gelu.
inline Tensor gelu(const Tensor& x) { return tg::gelu(x); }

/// x·σ(x), as tg::silu.
inline Tensor silu(const Tensor& x) { return tg::silu(x); }

/// x where x > 0, alpha·(eˣ − 1) elsewhere, as tg::elu.
inline Tensor elu(const Tensor& x, double alpha = 1.0) { return tg::elu(x, alpha); }

/// log(1 + e^(beta·x)) / beta, x above the threshold, as tg::softplus.
inline Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0) {
  return tg::softplus(x, beta, threshold);
}

/// Softmax along `dim`, as tg::softmax.
inline Tensor softmax(const Tensor& x, int64_t dim) { return tg::softmax(x, dim); }

/// Log-softmax along `dim`, as tg::log_softmax.
inline Tensor log_softmax(const Tensor& x, int64_t dim) { return tg::log_softmax(x, dim); }

}  // namespace tg::nn::functional

namespace tg {
/// Short name for the functional API, as `torch.nn.functional as F`.
namespace F = nn::functional;
}  // namespace tg
