// The reduction the functional losses share (their checks are autograd's check_loss_shapes
// and check_loss_floating, tapegrad/autograd/loss.hpp).
#pragma once

#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn::functional::detail {

/// The per-element terms reduced as `reduction` asks: a 0-D mean or sum, or the terms.
inline Tensor reduce(const Tensor& terms, Reduction reduction) {
  switch (reduction) {
    case Reduction::mean:
      return terms.mean();
    case Reduction::sum:
      return terms.sum();
    case Reduction::none:
      break;
  }
  return terms;
}

}  // namespace tg::nn::functional::detail
