// NAdam: the per-element rule (its options are checked as the Adam family's).
#include "tapegrad/optim/nadam.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<NAdamOptions, NAdamParamState>;

NAdam::NAdam(std::vector<Tensor> params, NAdamOptions options)
    : OptimizerBase("NAdam", std::move(params), options,
                    detail::require_adam_options<NAdamOptions>) {}

NAdam::NAdam(std::vector<NAdamParamGroup> groups)
    : OptimizerBase("NAdam", std::move(groups), detail::require_adam_options<NAdamOptions>) {}

void NAdam::update(Tensor& param, const Tensor& grad, NAdamParamState& state,
                   const NAdamOptions& options) {
  const double t = static_cast<double>(state.step += 1), psi = options.momentum_decay;
  const auto [beta1, beta2] = options.betas;
  const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * psi));
  const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
  state.mu_product = (state.step == 1 ? 1.0 : double(state.mu_product)) * mu;
  const double grad_step = options.lr * (1 - mu) / (1 - state.mu_product);
  const double avg_step = options.lr * mu_next / (1 - state.mu_product * mu_next);
  auto rule = [&]<class T>() {
    const T b1 = T(beta1), b2 = T(beta2), one_minus_b1 = T(1 - beta1), one_minus_b2 = T(1 - beta2);
    const T bias_correction2 = T(1 - std::pow(beta2, t)), eps = T(options.eps);
    const T decay = T(options.weight_decay), c_grad = T(grad_step), c_avg = T(avg_step);
    return [=](T& p, T g, T& m, T& v) {
      g += decay * p;
      m = b1 * m + one_minus_b1 * g;
      v = b2 * v + one_minus_b2 * g * g;
      const T d = std::sqrt(v / bias_correction2) + eps;
      p -= c_grad * g / d;
      p -= c_avg * m / d;
    };
  };
  update_elements(name(), param, grad, kGrainModerate, rule, state.exp_avg, state.exp_avg_sq);
}

}  // namespace tg::optim
