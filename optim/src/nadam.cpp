// NAdam: the per-element rule.
#include "tapegrad/optim/nadam.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<NAdamOptions, NAdamParamState, "NAdam">;

void NAdam::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  const double t = static_cast<double>(state.step += 1), beta1 = options.betas.first;
  const double mu = beta1 * (1 - 0.5 * std::pow(0.96, t * options.momentum_decay));
  const double mu_next = beta1 * (1 - 0.5 * std::pow(0.96, (t + 1) * options.momentum_decay));
  state.mu_product = (state.step == 1 ? 1.0 : double(state.mu_product)) * mu;
  const double grad_step = options.lr * (1 - mu) / (1 - state.mu_product);
  const double avg_step = options.lr * mu_next / (1 - state.mu_product * mu_next);
  const double bias_correction2 = 1 - std::pow(options.betas.second, t);
  update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& m, T& v) {
    adam_moments(p, g, m, v, options.weight_decay, options.betas);
    const T d = std::sqrt(v / T(bias_correction2)) + T(options.eps);
    p -= T(grad_step) * g / d;
    p -= T(avg_step) * m / d;
  });  // m = state.exp_avg, v = state.exp_avg_sq
}

}  // namespace tg::optim
