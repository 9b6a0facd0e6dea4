// tg::optim::Adadelta: steps sized by running averages of squared gradients and squared steps.
#pragma once

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// Adadelta's options, PyTorch 1.13's names and defaults. PyTorch 1.13's Adadelta has no
/// `decoupled_weight_decay` (weight decay is an L2 term), so neither has this one.
struct AdadeltaOptions {
  double lr = 1.0;          ///< γ, scales the step
  double rho = 0.9;         ///< ρ, the smoothing constant of both averages, in [0, 1]
  double eps = 1e-6;        ///< ε, added inside both square roots
  double weight_decay = 0;  ///< λ, added to the gradient as λθ
  bool maximize = false;    ///< ascend (the gradient is negated first)
};

/// Parameters that share one set of Adadelta options.
using AdadeltaParamGroup = ParamGroupOptions<AdadeltaOptions>;

/// Adadelta's per-parameter state; the buffers are undefined before the first update.
struct AdadeltaParamState {
  Step step;                        ///< t
  Buffer<"square_avg"> square_avg;  ///< v, the average of g²
  Buffer<"acc_delta"> acc_delta;    ///< u, the average of Δ²
};

/// Adadelta, after Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012). Each step,
/// for each parameter θ with a gradient, as torch.optim.Adadelta (1.13) computes it:
///
///     g ← ∇θ (−∇θ when maximize) + λθ
///     v ← ρ v + (1 − ρ) g²
///     Δ ← √(u + ε) / √(v + ε) · g
///     u ← ρ u + (1 − ρ) Δ²
///     θ ← θ − γ Δ
class Adadelta : public OptimizerBase<AdadeltaOptions, AdadeltaParamState, "Adadelta"> {
 public:
  /// Adadelta(params, options = {}) for one group, Adadelta(groups) for several; they throw
  /// tg::Error for invalid options.
  using OptimizerBase::OptimizerBase;

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
