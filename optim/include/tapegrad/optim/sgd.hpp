// tg::optim::SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay.
#pragma once

#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// SGD's options, PyTorch's names and defaults (PyTorch >= 2.2 also defaults lr to 1e-3).
struct SGDOptions {
  double lr = 1e-3;         ///< γ
  double momentum = 0;      ///< μ
  double dampening = 0;     ///< τ
  double weight_decay = 0;  ///< λ, an L2 penalty added to the gradient
  bool nesterov = false;    ///< Nesterov momentum (needs momentum > 0 and dampening == 0)
  bool maximize = false;    ///< ascend instead of descend (the gradient is negated first)
};

/// Parameters that share one set of SGD options.
using SGDParamGroup = ParamGroupOptions<SGDOptions>;

/// SGD's per-parameter state.
struct SGDParamState {
  Buffer<"momentum_buffer"> momentum_buffer;  ///< b; undefined until the first step with momentum
};

/// Stochastic gradient descent, optionally with momentum; Nesterov momentum after
/// Sutskever, Martens, Dahl and Hinton, "On the importance of initialization and momentum in
/// deep learning" (ICML 2013), in PyTorch's form. Each step, for each parameter θ with a
/// gradient, exactly as torch.optim.SGD documents:
///
///     g ← ∇θ                      (−∇θ when maximize)
///     g ← g + λθ                  if λ ≠ 0
///     b ← g                       at the first step, if μ ≠ 0
///     b ← μb + (1 − τ)g           later steps, if μ ≠ 0
///     g ← g + μb if nesterov, else g ← b      (if μ ≠ 0)
///     θ ← θ − γg
class SGD : public OptimizerBase<SGDOptions, SGDParamState, "SGD"> {
 public:
  /// One group of `params` with `options`; throws tg::Error for invalid options.
  explicit SGD(std::vector<Tensor> params, SGDOptions options = {});
  /// Several groups, each with its own options.
  explicit SGD(std::vector<SGDParamGroup> groups);

 private:
  void update(Tensor& param, const Tensor& grad, State& state, const Options& options) override;
};

}  // namespace tg::optim
