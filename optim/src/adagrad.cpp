// Adagrad: option checks and the in-place update.
#include "tapegrad/optim/adagrad.hpp"

#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const AdagradOptions& options) {
  detail::require(options.lr >= 0, name, "learning rate", options.lr, ">= 0");
  detail::require(options.lr_decay >= 0, name, "lr_decay", options.lr_decay, ">= 0");
  detail::require(options.weight_decay >= 0, name, "weight_decay", options.weight_decay, ">= 0");
  detail::require(options.initial_accumulator_value >= 0, name, "initial_accumulator_value",
                  options.initial_accumulator_value, ">= 0");
  detail::require(options.eps >= 0, name, "eps", options.eps, ">= 0");
}

}  // namespace

template class OptimizerBase<AdagradOptions, AdagradParamState>;

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(std::vector<AdagradParamGroup>{{std::move(params), options}}) {}

Adagrad::Adagrad(std::vector<AdagradParamGroup> groups)
    : OptimizerBase("Adagrad", std::move(groups), validate) {}

void Adagrad::update(Tensor& param, const Tensor& grad, AdagradParamState& state,
                     const AdagradOptions& options) {
  if (!state.sum.defined())
    state.sum =
        tg::full(param.shape(), options.initial_accumulator_value, {.dtype = param.dtype()});
  state.step += 1;
  const double clr = options.lr / (1 + static_cast<double>(state.step - 1) * options.lr_decay);
  update_elements(
      name(), param, grad, kGrainModerate,
      [&]<class T>() {
        const T decay = T(options.weight_decay), eps = T(options.eps), lr = T(clr);
        return [=](T& p, T g, T& sum) {
          g += decay * p;
          sum += g * g;
          p -= lr * g / (std::sqrt(sum) + eps);
        };
      },
      state.sum);
}

}  // namespace tg::optim
