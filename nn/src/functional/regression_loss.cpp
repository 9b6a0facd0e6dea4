// Regression losses l1_loss and huber_loss, composed of differentiable ops (mse_loss is a fused
// op, tapegrad/autograd/loss.hpp).
#include <fmt/format.h>

#include <cmath>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/loss.hpp"
#include "tapegrad/autograd/loss_checks.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn::functional {

// d|input − target|/dinput = sign(input − target) (0 at 0), and the negative for target
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_loss_shapes("l1_loss", "input", input, target);
  return tg::reduce(abs(input - target), reduction);
}

// With d = input − target and c = clamp(d, −delta, delta), huber = c·(d − ½c): ½d² inside,
// delta·(|d| − ½delta) outside. d huber/dd = c'·(d − c) + c = c, since c' = 0 wherever d ≠ c.
Tensor huber_loss(const Tensor& input, const Tensor& target, double delta, Reduction reduction) {
  check_loss_shapes("huber_loss", "input", input, target);
  if (!(delta > 0) || !std::isfinite(delta))
    throw Error(
        fmt::format("huber_loss: delta must be positive and finite, got {} (input {}, "
                    "target {})",
                    delta, format_shape(input.shape()), format_shape(target.shape())));
  const Tensor difference = input - target;
  const Tensor clipped = clamp(difference, -delta, delta);
  return tg::reduce(clipped * (difference - 0.5 * clipped), reduction);
}

}  // namespace tg::nn::functional
