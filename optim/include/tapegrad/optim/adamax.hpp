// tg::optim::Adamax: Adam with the infinity norm in place of the second moment.
#pragma once

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// Adamax's options, PyTorch 1.13's names and defaults. PyTorch 1.13's Adamax has no
/// `decoupled_weight_decay` (weight decay is an L2 term), so neither has this one.
struct AdamaxOptions {
  double lr = 2e-3;                                ///< γ
  std::pair<double, double> betas = {0.9, 0.999};  ///< β1, β2, each in [0, 1)
  double eps = 1e-8;                               ///< ε, added to |g|
  double weight_decay = 0;                         ///< λ, added to the gradient as λθ
  bool maximize = false;                           ///< ascend (the gradient is negated first)
};

/// Parameters that share one set of Adamax options.
using AdamaxParamGroup = ParamGroupOptions<AdamaxOptions>;

/// Adamax's per-parameter state; the buffers are undefined before the first update.
struct AdamaxParamState {
  Step step;                  ///< t
  Buffer<"exp_avg"> exp_avg;  ///< m
  Buffer<"exp_inf"> exp_inf;  ///< u, the decayed infinity norm of the gradients
};

/// Adamax, after Kingma and Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015),
/// section 7.1. Each step, for each parameter θ with a gradient, as torch.optim.Adamax (1.13)
/// computes it:
///
///     t ← t + 1;   g ← ∇θ (−∇θ when maximize) + λθ
///     m ← β1 m + (1 − β1) g
///     u ← max(β2 u, |g| + ε)
///     θ ← θ − γ m / ((1 − β1^t) u)
class Adamax : public OptimizerBase<AdamaxOptions, AdamaxParamState, "Adamax"> {
 public:
  /// Adamax(params, options = {}) for one group, Adamax(groups) for several; they throw
  /// tg::Error for invalid options.
  using OptimizerBase::OptimizerBase;

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
