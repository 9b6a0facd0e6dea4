// tg::optim::Adagrad: per-coordinate learning rates from the accumulated squared gradients.
#pragma once

#include <cstdint>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// Adagrad's options, PyTorch's names and defaults.
struct AdagradOptions {
  double lr = 1e-2;                      ///< γ
  double lr_decay = 0;                   ///< η
  double weight_decay = 0;               ///< λ, an L2 penalty added to the gradient
  double initial_accumulator_value = 0;  ///< the starting value of the sum of squares
  double eps = 1e-10;                    ///< ε, added outside the square root
};

/// Parameters that share one set of Adagrad options.
using AdagradParamGroup = ParamGroupOptions<AdagradOptions>;

/// Adagrad's per-parameter state.
struct AdagradParamState {
  Step step;          ///< t, the number of updates this parameter has had
  Buffer<"sum"> sum;  ///< the accumulated squared gradients; undefined before the first update
};

/// Adagrad, after Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning
/// and Stochastic Optimization" (JMLR 2011). Each step, for each parameter θ with a gradient,
/// exactly as torch.optim.Adagrad documents (sum starts at initial_accumulator_value):
///
///     t ← t + 1
///     clr ← γ / (1 + (t − 1)η)
///     g ← ∇θ + λθ
///     sum ← sum + g²
///     θ ← θ − clr · g / (√sum + ε)
class Adagrad : public OptimizerBase<AdagradOptions, AdagradParamState, "Adagrad"> {
 public:
  /// Adagrad(params, options = {}) for one group, Adagrad(groups) for several; they throw
  /// tg::Error for invalid options.
  using OptimizerBase::OptimizerBase;

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
