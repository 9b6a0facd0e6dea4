// tg::optim::RMSprop: steps scaled by a running average of squared gradients.
#pragma once

#include <cstdint>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// RMSprop's options, PyTorch's names and defaults.
struct RMSpropOptions {
  double lr = 1e-2;         ///< γ
  double alpha = 0.99;      ///< α, the smoothing constant of the squared-gradient average
  double eps = 1e-8;        ///< ε, added outside the square root
  double weight_decay = 0;  ///< λ, an L2 penalty added to the gradient
  double momentum = 0;      ///< μ
  bool centered = false;    ///< divide by an estimate of the variance instead of the raw moment
};

/// Parameters that share one set of RMSprop options.
using RMSpropParamGroup = ParamGroupOptions<RMSpropOptions>;

/// RMSprop's per-parameter state; the buffers are undefined until the first update needs them.
struct RMSpropParamState {
  Step step;                                  ///< the number of updates this parameter has had
  Buffer<"square_avg"> square_avg;            ///< v
  Buffer<"momentum_buffer"> momentum_buffer;  ///< b (momentum > 0 only)
  Buffer<"grad_avg"> grad_avg;                ///< g_ave (centered only)
};

/// RMSprop, after Hinton's Coursera lecture 6.5 and, centered, Graves, "Generating Sequences
/// With Recurrent Neural Networks" (2013). Each step, for each parameter θ with a gradient,
/// exactly as torch.optim.RMSprop documents (v, g_ave and b start at 0):
///
///     g ← ∇θ + λθ
///     v ← αv + (1 − α)g²
///     ṽ ← v;   if centered: g_ave ← αg_ave + (1 − α)g,  ṽ ← ṽ − g_ave²
///     if μ > 0:  b ← μb + g / (√ṽ + ε),  θ ← θ − γb
///     else:      θ ← θ − γ g / (√ṽ + ε)
class RMSprop : public OptimizerBase<RMSpropOptions, RMSpropParamState, "RMSprop"> {
 public:
  /// RMSprop(params, options = {}) for one group, RMSprop(groups) for several; they throw
  /// tg::Error for invalid options.
  using OptimizerBase::OptimizerBase;

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
