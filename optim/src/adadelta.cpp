// Adadelta: the per-element rule.
#include "tapegrad/optim/adadelta.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<AdadeltaOptions, AdadeltaParamState, "Adadelta">;

void Adadelta::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  state.step += 1;
  update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& v, T& u) {
    const T rho = T(options.rho), one_minus_rho = T(1 - options.rho), eps = T(options.eps);
    g = T(options.maximize ? -1 : 1) * g + T(options.weight_decay) * p;
    v = rho * v + one_minus_rho * g * g;
    const T delta = std::sqrt(u + eps) / std::sqrt(v + eps) * g;
    u = rho * u + one_minus_rho * delta * delta;
    p -= T(options.lr) * delta;
  });  // v = state.square_avg, u = state.acc_delta
}

}  // namespace tg::optim
