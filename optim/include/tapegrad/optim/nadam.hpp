// tg::optim::NAdam: Adam with Nesterov momentum and a momentum schedule.
#pragma once

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// NAdam's options, PyTorch 1.13's names and defaults. PyTorch 1.13's NAdam has neither
/// `maximize` nor `decoupled_weight_decay` (both came later), so neither is here.
struct NAdamOptions {
  double lr = 2e-3;                                ///< γ
  std::pair<double, double> betas = {0.9, 0.999};  ///< β1, β2, each in [0, 1)
  double eps = 1e-8;                               ///< ε, added outside the square root
  double weight_decay = 0;                         ///< λ, added to the gradient as λθ
  double momentum_decay = 4e-3;                    ///< ψ, >= 0
};

/// Parameters that share one set of NAdam options.
using NAdamParamGroup = ParamGroupOptions<NAdamOptions>;

/// NAdam's per-parameter state; the buffers are undefined before the first update.
struct NAdamParamState {
  Step step;                        ///< t
  Scalar<"mu_product"> mu_product;  ///< μ_1 μ_2 ⋯ μ_t
  Buffer<"exp_avg"> exp_avg;        ///< m
  Buffer<"exp_avg_sq"> exp_avg_sq;  ///< v
};

/// NAdam, after Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
/// Each step, for each parameter θ with a gradient, as torch.optim.NAdam (1.13) computes it:
///
///     t ← t + 1;   g ← ∇θ + λθ
///     μ_t ← β1 (1 − ½·0.96^(tψ)),   μ_{t+1} ← β1 (1 − ½·0.96^((t+1)ψ))
///     m ← β1 m + (1 − β1) g;   v ← β2 v + (1 − β2) g²
///     d ← √(v / (1 − β2^t)) + ε
///     θ ← θ − γ (1 − μ_t) / (1 − ∏_{i≤t} μ_i) · g / d − γ μ_{t+1} / (1 − ∏_{i≤t+1} μ_i) · m / d
class NAdam : public OptimizerBase<NAdamOptions, NAdamParamState, "NAdam"> {
 public:
  /// NAdam(params, options = {}) for one group, NAdam(groups) for several; they throw
  /// tg::Error for invalid options.
  using OptimizerBase::OptimizerBase;

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
