// Adagrad: option checks and the in-place update loop.
#include "tapegrad/optim/adagrad.hpp"

#include <cmath>

#include "common.hpp"
#include "tapegrad/autograd/grad_mode.hpp"

namespace tg::optim {

namespace {

void validate(const AdagradOptions& options) {
  detail::require(options.lr >= 0, "Adagrad", "learning rate", options.lr, ">= 0");
  detail::require(options.lr_decay >= 0, "Adagrad", "lr_decay", options.lr_decay, ">= 0");
  detail::require(options.weight_decay >= 0, "Adagrad", "weight_decay", options.weight_decay,
                  ">= 0");
  detail::require(options.initial_accumulator_value >= 0, "Adagrad", "initial_accumulator_value",
                  options.initial_accumulator_value, ">= 0");
  detail::require(options.eps >= 0, "Adagrad", "eps", options.eps, ">= 0");
}

template <class T>
void update(T* param, const T* grad, T* sum, int64_t n, double clr, const AdagradOptions& options) {
  const T decay = static_cast<T>(options.weight_decay);
  const T eps = static_cast<T>(options.eps);
  const T step = static_cast<T>(clr);
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i] + decay * param[i];
    const T s = sum[i] + g * g;
    sum[i] = s;
    param[i] -= step * g / (std::sqrt(s) + eps);
  }
}

}  // namespace

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(std::vector<AdagradParamGroup>{{std::move(params), options}}) {}

Adagrad::Adagrad(std::vector<AdagradParamGroup> groups)
    : Optimizer("Adagrad", detail::to_param_groups(groups)), options_(detail::options_of(groups)) {
  for (const AdagradOptions& options : options_) validate(options);
  state_.resize(parameters().size());
}

void Adagrad::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (size_t g = 0; g < param_groups().size(); ++g) {
    const ParamGroup& group = param_groups()[g];
    const AdagradOptions& options = options_[g];
    for (Tensor param : group.params) {
      AdagradParamState& state = state_[index++];
      const Tensor grad = detail::checked_grad("Adagrad", param);
      if (!grad.defined()) continue;
      if (!state.sum.defined())
        state.sum =
            tg::full(param.shape(), options.initial_accumulator_value, {.dtype = param.dtype()});
      state.step += 1;
      const double clr = group.lr / (1 + static_cast<double>(state.step - 1) * options.lr_decay);
      detail::dispatch_floating(param.dtype(), [&]<class T>() {
        update<T>(param.data<T>(), grad.data<T>(), state.sum.data<T>(), param.numel(), clr,
                  options);
      });
    }
  }
}

}  // namespace tg::optim
