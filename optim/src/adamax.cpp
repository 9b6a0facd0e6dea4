// Adamax: the per-element rule.
#include "tapegrad/optim/adamax.hpp"

#include <algorithm>
#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<AdamaxOptions, AdamaxParamState, "Adamax">;

void Adamax::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  const double beta1 = options.betas.first, beta2 = options.betas.second;
  state.step += 1;
  const double step_size = options.lr / (1 - std::pow(beta1, static_cast<double>(state.step)));
  update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& m, T& u) {
    g = T(options.maximize ? -1 : 1) * g + T(options.weight_decay) * p;
    m = T(beta1) * m + T(1 - beta1) * g;
    u = std::max(T(beta2) * u, std::abs(g) + T(options.eps));
    p -= T(step_size) * m / u;
  });  // m = state.exp_avg, u = state.exp_inf
}

}  // namespace tg::optim
