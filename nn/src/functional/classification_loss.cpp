// Classification losses: thin wrappers over autograd's fused binary cross-entropy (on
// probabilities and on logits), softmax cross-entropy and negative log-likelihood, and KL
// divergence.
#include "functional/loss_common.hpp"
#include "tapegrad/autograd/loss_ops.hpp"

namespace tg::nn::functional {

namespace {

tg::detail::LossReduction fused(Reduction reduction) {
  switch (reduction) {
    case Reduction::mean:
      return tg::detail::LossReduction::mean;
    case Reduction::sum:
      return tg::detail::LossReduction::sum;
    case Reduction::none:
      break;
  }
  return tg::detail::LossReduction::none;
}

}  // namespace

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction) {
  detail::check_same_shape("binary_cross_entropy", "probs", probs, target);
  detail::check_floating("binary_cross_entropy", "probs", probs);
  return detail::reduce(tg::detail::binary_cross_entropy(probs, target), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
  detail::check_same_shape("binary_cross_entropy_with_logits", "logits", logits, target);
  detail::check_floating("binary_cross_entropy_with_logits", "logits", logits);
  return tg::detail::binary_cross_entropy_with_logits(logits, target, fused(reduction));
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
  return cross_entropy(logits, target, CrossEntropyOptions{.reduction = reduction});
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options) {
  if (!(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0))
    throw Error(fmt::format("cross_entropy: label_smoothing must lie in [0, 1], got {} (logits {})",
                            options.label_smoothing,
                            logits.defined() ? format_shape(logits.shape()) : "undefined"));
  return tg::detail::cross_entropy_loss(logits, target, options.weight, options.ignore_index,
                                        fused(options.reduction), options.label_smoothing);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  return nll_loss(log_probs, target, NLLLossOptions{.reduction = reduction});
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NLLLossOptions& options) {
  return tg::detail::nll_loss(log_probs, target, options.weight, options.ignore_index,
                              fused(options.reduction));
}

// mask = [target ≠ 0], t' = target where mask else 1; term = mask·target·(log t' − log_input).
// d/dlog_input = −target;  d/dtarget = mask·(log target + 1 − log_input), 0 where target is 0
// (PyTorch's convention; the one-sided derivative of t·log t there is −∞).
Tensor kl_div(const Tensor& log_input, const Tensor& target, Reduction reduction) {
  detail::check_same_shape("kl_div", "log_input", log_input, target);
  detail::check_floating("kl_div", "log_input", log_input);
  detail::check_floating("kl_div", "target", target);
  const Tensor mask = ne(target, zeros({}, {.dtype = target.dtype()}));
  const Tensor safe_target = target + (1.0 - mask);
  return detail::reduce(mask * (target * (log(safe_target) - log_input)), reduction);
}

}  // namespace tg::nn::functional
