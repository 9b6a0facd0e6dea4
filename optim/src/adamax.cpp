// Adamax: option checks and the per-element rule.
#include "tapegrad/optim/adamax.hpp"

#include <algorithm>
#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<AdamaxOptions, AdamaxParamState>;

Adamax::Adamax(std::vector<Tensor> params, AdamaxOptions options)
    : OptimizerBase("Adamax", std::move(params), options,
                    detail::require_adam_options<AdamaxOptions>) {}

Adamax::Adamax(std::vector<AdamaxParamGroup> groups)
    : OptimizerBase("Adamax", std::move(groups), detail::require_adam_options<AdamaxOptions>) {}

void Adamax::update(Tensor& param, const Tensor& grad, AdamaxParamState& state,
                    const AdamaxOptions& options) {
  const auto [beta1, beta2] = options.betas;
  state.step += 1;
  const double step_size = options.lr / (1 - std::pow(beta1, static_cast<double>(state.step)));
  update_elements(
      name(), param, grad, kGrainModerate,
      [&]<class T>() {
        const T b1 = T(beta1), b2 = T(beta2), one_minus_b1 = T(1 - beta1), eps = T(options.eps);
        const T sign = options.maximize ? T(-1) : T(1), decay = T(options.weight_decay);
        const T lr = T(step_size);
        return [=](T& p, T g, T& m, T& u) {
          g = sign * g + decay * p;
          m = b1 * m + one_minus_b1 * g;
          u = std::max(b2 * u, std::abs(g) + eps);
          p -= lr * m / u;
        };
      },
      state.exp_avg, state.exp_inf);
}

}  // namespace tg::optim
