// tg::optim::Adam and AdamW: one family of adaptive-moment optimizers, with AMSGrad.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// Adam's options, PyTorch's names and defaults; weight_decay is an L2 penalty.
struct AdamOptions {
  double lr = 1e-3;                                ///< γ
  std::pair<double, double> betas = {0.9, 0.999};  ///< β1, β2, each in [0, 1)
  double eps = 1e-8;                               ///< ε, added outside the square root
  double weight_decay = 0;                         ///< λ, added to the gradient as λθ
  bool amsgrad = false;                            ///< use the running maximum of v (AMSGrad)
};

/// AdamW's options: Adam's, with decoupled weight decay defaulting to 1e-2.
struct AdamWOptions {
  double lr = 1e-3;                                ///< γ
  std::pair<double, double> betas = {0.9, 0.999};  ///< β1, β2, each in [0, 1)
  double eps = 1e-8;                               ///< ε, added outside the square root
  double weight_decay = 1e-2;                      ///< λ, applied as θ ← θ − γλθ
  bool amsgrad = false;                            ///< use the running maximum of v (AMSGrad)
};

/// Parameters that share one set of Adam options.
using AdamParamGroup = ParamGroupOptions<AdamOptions>;

/// Parameters that share one set of AdamW options.
using AdamWParamGroup = ParamGroupOptions<AdamWOptions>;

/// The per-parameter state of Adam and AdamW; buffers are undefined before the first update.
struct AdamParamState {
  Step step;                                ///< t, the number of updates this parameter has had
  Buffer<"exp_avg"> exp_avg;                ///< m
  Buffer<"exp_avg_sq"> exp_avg_sq;          ///< v
  Buffer<"max_exp_avg_sq"> max_exp_avg_sq;  ///< v_max, the running maximum of v (amsgrad only)
};

/// Adam, after Kingma and Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015), with
/// AMSGrad from Reddi, Kale and Kumar, "On the Convergence of Adam and Beyond" (ICLR 2018).
/// Each step, for each parameter θ with a gradient, as torch.optim.Adam computes it:
///
///     t ← t + 1
///     g ← ∇θ + λθ                          (Adam; AdamW instead does θ ← θ − γλθ first)
///     m ← β1 m + (1 − β1) g
///     v ← β2 v + (1 − β2) g²
///     m̂ ← m / (1 − β1^t)
///     amsgrad:  v_max ← max(v_max, v),  v̂ ← v_max / (1 − β2^t)
///     else:     v̂ ← v / (1 − β2^t)
///     θ ← θ − γ m̂ / (√v̂ + ε)
///
/// AMSGrad keeps the maximum of the raw v and bias-corrects it with the current t, as
/// PyTorch's implementation (and its documentation since 2.2) does.
class Adam : public OptimizerBase<AdamOptions, AdamParamState, "Adam"> {
 public:
  /// One group of `params` with `options`; throws tg::Error for invalid options.
  explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
  /// Several groups, each with its own options.
  explicit Adam(std::vector<AdamParamGroup> groups);

  /// True for AdamW: weight decay shrinks θ directly instead of entering the gradient.
  bool decoupled_weight_decay() const { return decoupled_weight_decay_; }

 protected:
  /// For AdamW: the same family with decoupled weight decay.
  Adam(const char* name, std::vector<AdamParamGroup> groups, bool decoupled_weight_decay);

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;

  bool decoupled_weight_decay_;
};

/// AdamW, after Loshchilov and Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019):
/// Adam whose weight decay is θ ← θ − γλθ before the Adam update instead of an L2 term in the
/// gradient, as torch.optim.AdamW documents.
class AdamW : public Adam {
 public:
  /// One group of `params` with `options`; throws tg::Error for invalid options.
  explicit AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  /// Several groups, each with its own options.
  explicit AdamW(std::vector<AdamWParamGroup> groups);

  void add_param_group(std::vector<Tensor> params) override;
  /// Adds a group of new parameters with AdamW's options (weight decay 1e-2 by default).
  void add_param_group(AdamWParamGroup group);
};

}  // namespace tg::optim
