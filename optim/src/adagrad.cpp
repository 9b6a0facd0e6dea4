// Adagrad: option checks and the in-place update.
#include "tapegrad/optim/adagrad.hpp"

#include <cmath>

#include "optimizer_base.hpp"
#include "parallel.hpp"

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

// One pass per parameter on elements [begin, end), so parallel_for can split large parameters;
// pointers and constants are locals here, not a lambda's captures, so the loop vectorises.
template <class T>
void update_values(T* param, const T* grad, T* sum, int64_t begin, int64_t end, double clr,
                   const AdagradOptions& options) {
  const T decay = static_cast<T>(options.weight_decay);
  const T eps = static_cast<T>(options.eps);
  const T step = static_cast<T>(clr);
  for (int64_t i = begin; i < end; ++i) {
    const T g = grad[i] + decay * param[i];
    const T s = sum[i] + g * g;
    sum[i] = s;
    param[i] -= step * g / (std::sqrt(s) + eps);
  }
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
  detail::dispatch_floating(name(), param.dtype(), [&]<class T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* sum = state.sum.data<T>();
    tg::detail::parallel_for(
        param.numel(), tg::detail::kGrainModerate,
        [&](int64_t begin, int64_t end) { update_values(p, g, sum, begin, end, clr, options); });
  });
}

}  // namespace tg::optim
