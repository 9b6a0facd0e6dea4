// RMSprop: option checks and the in-place update.
#include "tapegrad/optim/rmsprop.hpp"

#include <cmath>

#include "optimizer_base.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const RMSpropOptions& options) {
  detail::require(options.lr >= 0, name, "learning rate", options.lr, ">= 0");
  detail::require(options.alpha >= 0, name, "alpha", options.alpha, ">= 0");
  detail::require(options.eps >= 0, name, "eps", options.eps, ">= 0");
  detail::require(options.weight_decay >= 0, name, "weight_decay", options.weight_decay, ">= 0");
  detail::require(options.momentum >= 0, name, "momentum", options.momentum, ">= 0");
}

// `grad_avg` is null unless centered, `buffer` null unless momentum > 0.
template <class T>
void update_values(T* param, const T* grad, T* square_avg, T* grad_avg, T* buffer, int64_t n,
                   const RMSpropOptions& options) {
  const T alpha = static_cast<T>(options.alpha);
  const T one_minus_alpha = static_cast<T>(1 - options.alpha);
  const T decay = static_cast<T>(options.weight_decay);
  const T eps = static_cast<T>(options.eps);
  const T momentum = static_cast<T>(options.momentum);
  const T step = static_cast<T>(options.lr);
  for (int64_t i = 0; i < n; ++i) {
    const T g = grad[i] + decay * param[i];
    const T v = alpha * square_avg[i] + one_minus_alpha * g * g;
    square_avg[i] = v;
    T variance = v;
    if (grad_avg != nullptr) {
      const T mean = alpha * grad_avg[i] + one_minus_alpha * g;
      grad_avg[i] = mean;
      variance = v - mean * mean;
    }
    const T scaled = g / (std::sqrt(variance) + eps);
    if (buffer != nullptr) {
      const T b = momentum * buffer[i] + scaled;
      buffer[i] = b;
      param[i] -= step * b;
    } else {
      param[i] -= step * scaled;
    }
  }
}

}  // namespace

template class OptimizerBase<RMSpropOptions, RMSpropParamState>;

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<RMSpropParamGroup>{{std::move(params), options}}) {}

RMSprop::RMSprop(std::vector<RMSpropParamGroup> groups)
    : OptimizerBase("RMSprop", std::move(groups), validate) {}

void RMSprop::update(Tensor& param, const Tensor& grad, RMSpropParamState& state,
                     const RMSpropOptions& options) {
  if (!state.square_avg.defined()) state.square_avg = detail::zeros_like_param(param);
  if (options.centered && !state.grad_avg.defined())
    state.grad_avg = detail::zeros_like_param(param);
  if (options.momentum > 0 && !state.momentum_buffer.defined())
    state.momentum_buffer = detail::zeros_like_param(param);
  state.step += 1;
  detail::dispatch_floating(name(), param.dtype(), [&]<class T>() {
    T* grad_avg = options.centered ? state.grad_avg.data<T>() : nullptr;
    T* buffer = options.momentum > 0 ? state.momentum_buffer.data<T>() : nullptr;
    update_values<T>(param.data<T>(), grad.data<T>(), state.square_avg.data<T>(), grad_avg, buffer,
                     param.numel(), options);
  });
}

}  // namespace tg::optim
