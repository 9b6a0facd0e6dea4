// KL divergence; the classification losses that are fused ops (cross-entropy, nll_loss, binary
// cross-entropy) live in autograd (tapegrad/autograd/loss.hpp) and are re-exported by the header.
#include "functional/loss_common.hpp"

namespace tg::nn::functional {

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
