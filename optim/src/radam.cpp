// RAdam: the per-element rule.
#include "tapegrad/optim/radam.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<RAdamOptions, RAdamParamState, "RAdam">;

void RAdam::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  const double t = static_cast<double>(state.step += 1);
  const double beta1 = options.betas.first, beta2 = options.betas.second;
  const double bias_correction2 = 1 - std::pow(beta2, t);
  const double rho_inf = 2 / (1 - beta2) - 1;
  const double rho = rho_inf - 2 * t * std::pow(beta2, t) / bias_correction2;
  const bool rectify = rho > 5;  // the variance of the adaptive step is tractable
  const double rect_sq = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho);
  const double rect = rectify ? std::sqrt(rect_sq) : 0.0;
  const double step_size = options.lr / (1 - std::pow(beta1, t));
  const double adaptive = rect * std::sqrt(bias_correction2);
  update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& m, T& v) {
    adam_moments(p, g, m, v, options.weight_decay, options.betas);
    p -= rectify ? T(step_size) * m * T(adaptive) / (std::sqrt(v) + T(options.eps))
                 : T(step_size) * m;
  });  // m = state.exp_avg, v = state.exp_avg_sq
}

}  // namespace tg::optim
