// Adadelta: option checks and the per-element rule.
#include "tapegrad/optim/adadelta.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

static void validate(const char* name, const AdadeltaOptions& options) {
  detail::require_rates(name, options.lr, options.eps, options.weight_decay);
  detail::require(options.rho >= 0 && options.rho <= 1, name, "rho", options.rho, "in [0, 1]");
}

template class OptimizerBase<AdadeltaOptions, AdadeltaParamState>;

Adadelta::Adadelta(std::vector<Tensor> params, AdadeltaOptions options)
    : OptimizerBase("Adadelta", std::move(params), options, validate) {}

Adadelta::Adadelta(std::vector<AdadeltaParamGroup> groups)
    : OptimizerBase("Adadelta", std::move(groups), validate) {}

void Adadelta::update(Tensor& param, const Tensor& grad, AdadeltaParamState& state,
                      const AdadeltaOptions& options) {
  state.step += 1;
  update_elements(
      name(), param, grad, kGrainModerate,
      [&]<class T>() {
        const T rho = T(options.rho), one_minus_rho = T(1 - options.rho), eps = T(options.eps);
        const T sign = options.maximize ? T(-1) : T(1), decay = T(options.weight_decay);
        const T lr = T(options.lr);
        return [=](T& p, T g, T& v, T& u) {
          g = sign * g + decay * p;
          v = rho * v + one_minus_rho * g * g;
          const T delta = std::sqrt(u + eps) / std::sqrt(v + eps) * g;
          u = rho * u + one_minus_rho * delta * delta;
          p -= lr * delta;
        };
      },
      state.square_avg, state.acc_delta);
}

}  // namespace tg::optim
