// tg::nn::Dropout, inverted dropout that is the identity in evaluation mode.
#pragma once

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// In training mode zeroes each element with probability p and scales the rest by 1/(1 − p),
/// so the expected output equals the input; in evaluation mode returns the input unchanged.
/// The mask comes from the global generator, so tg::manual_seed makes it reproducible.
///
///     tg::nn::Dropout drop(0.2);
///     model.eval();   // after training: no dropping
class Dropout : public Module {
 public:
  /// Throws tg::Error unless 0 ≤ p ≤ 1.
  explicit Dropout(double p = 0.5);
  /// The masked, rescaled input (training) or the input itself (evaluation, or p = 0).
  Tensor forward(const Tensor& input) override;
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace tg::nn
