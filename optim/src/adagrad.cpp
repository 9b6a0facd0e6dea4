// Adagrad: the per-element rule.
#include "tapegrad/optim/adagrad.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<AdagradOptions, AdagradParamState, "Adagrad">;

void Adagrad::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  if (!state.sum.defined())
    state.sum =
        tg::full(param.shape(), options.initial_accumulator_value, {.dtype = param.dtype()});
  state.step += 1;
  const double clr = options.lr / (1 + static_cast<double>(state.step - 1) * options.lr_decay);
  update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& sum) {
    g += T(options.weight_decay) * p;
    sum += g * g;
    p -= T(clr) * g / (std::sqrt(sum) + T(options.eps));
  });  // sum = state.sum
}

}  // namespace tg::optim
