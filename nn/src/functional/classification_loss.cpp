// KL divergence; the classification losses that are fused ops (cross-entropy, nll_loss, binary
// cross-entropy) live in autograd (tapegrad/autograd/loss.hpp) and are re-exported by the header.
#include "tapegrad/autograd/loss.hpp"
#include "tapegrad/autograd/loss_checks.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn::functional {

// mask = [target ≠ 0], t' = target where mask else 1; term = mask·target·(log t' − log_input).
// d/dlog_input = −target;  d/dtarget = mask·(log target + 1 − log_input), 0 where target is 0
// (PyTorch's convention; the one-sided derivative of t·log t there is −∞).
Tensor kl_div(const Tensor& log_input, const Tensor& target, Reduction reduction) {
  check_loss_shapes("kl_div", "log_input", log_input, target);
  check_loss_floating("kl_div", "log_input", log_input);
  check_loss_floating("kl_div", "target", target);
  const Tensor mask = ne(target, zeros({}, {.dtype = target.dtype()}));
  const Tensor safe_target = target + (1.0 - mask);
  return tg::reduce(mask * (target * (log(safe_target) - log_input)), reduction);
}

}  // namespace tg::nn::functional
