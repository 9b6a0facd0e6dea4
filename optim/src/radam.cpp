// RAdam: option checks and the per-element rule.
#include "tapegrad/optim/radam.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<RAdamOptions, RAdamParamState>;

RAdam::RAdam(std::vector<Tensor> params, RAdamOptions options)
    : OptimizerBase("RAdam", std::move(params), options,
                    detail::require_adam_options<RAdamOptions>) {}

RAdam::RAdam(std::vector<RAdamParamGroup> groups)
    : OptimizerBase("RAdam", std::move(groups), detail::require_adam_options<RAdamOptions>) {}

void RAdam::update(Tensor& param, const Tensor& grad, RAdamParamState& state,
                   const RAdamOptions& options) {
  const double t = static_cast<double>(state.step += 1);
  const auto [beta1, beta2] = options.betas;
  const double bias_correction2 = 1 - std::pow(beta2, t);
  const double rho_inf = 2 / (1 - beta2) - 1;
  const double rho = rho_inf - 2 * t * std::pow(beta2, t) / bias_correction2;
  const bool rectify = rho > 5;  // the variance of the adaptive step is tractable
  const double rect =
      rectify ? std::sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
              : 0.0;
  auto rule = [&]<class T>() {
    const T b1 = T(beta1), b2 = T(beta2), one_minus_b1 = T(1 - beta1), one_minus_b2 = T(1 - beta2);
    const T step_size = T(options.lr / (1 - std::pow(beta1, t))), eps = T(options.eps);
    const T adaptive = T(rect * std::sqrt(bias_correction2)), decay = T(options.weight_decay);
    return [=](T& p, T g, T& m, T& v) {
      g += decay * p;
      m = b1 * m + one_minus_b1 * g;
      v = b2 * v + one_minus_b2 * g * g;
      p -= rectify ? step_size * m * adaptive / (std::sqrt(v) + eps) : step_size * m;
    };
  };
  update_elements(name(), param, grad, kGrainModerate, rule, state.exp_avg, state.exp_avg_sq);
}

}  // namespace tg::optim
