// tg::optim::RAdam: Adam whose adaptive step is rectified while its variance estimate is young.
#pragma once

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// RAdam's options, PyTorch 1.13's names and defaults. PyTorch 1.13's RAdam has neither
/// `maximize` nor `decoupled_weight_decay` (both came later), so neither is here.
struct RAdamOptions {
  double lr = 1e-3;                                ///< γ
  std::pair<double, double> betas = {0.9, 0.999};  ///< β1, β2, each in [0, 1)
  double eps = 1e-8;                               ///< ε, added outside the square root
  double weight_decay = 0;                         ///< λ, added to the gradient as λθ
};

/// Parameters that share one set of RAdam options.
using RAdamParamGroup = ParamGroupOptions<RAdamOptions>;

/// RAdam's per-parameter state; the buffers are undefined before the first update.
struct RAdamParamState {
  Step step;                        ///< t
  Buffer<"exp_avg"> exp_avg;        ///< m
  Buffer<"exp_avg_sq"> exp_avg_sq;  ///< v
};

/// RAdam, after Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond"
/// (ICLR 2020). Each step, for each parameter θ with a gradient, as torch.optim.RAdam (1.13)
/// computes it:
///
///     t ← t + 1;   g ← ∇θ + λθ
///     m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²;   m̂ ← m / (1 − β1^t)
///     ρ∞ ← 2 / (1 − β2) − 1;   ρ_t ← ρ∞ − 2t β2^t / (1 − β2^t)
///     if ρ_t > 5:  r ← √((ρ_t − 4)(ρ_t − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρ_t))
///                  θ ← θ − γ m̂ r √(1 − β2^t) / (√v + ε)
///     else:        θ ← θ − γ m̂
class RAdam : public OptimizerBase<RAdamOptions, RAdamParamState, "RAdam"> {
 public:
  /// RAdam(params, options = {}) for one group, RAdam(groups) for several; they throw
  /// tg::Error for invalid options.
  using OptimizerBase::OptimizerBase;

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
