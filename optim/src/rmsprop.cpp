// RMSprop: option checks and the in-place update loop.
#include "tapegrad/optim/rmsprop.hpp"

#include <cmath>

#include "common.hpp"
#include "tapegrad/autograd/grad_mode.hpp"

namespace tg::optim {

namespace {

void validate(const RMSpropOptions& options) {
  detail::require(options.lr >= 0, "RMSprop", "learning rate", options.lr, ">= 0");
  detail::require(options.alpha >= 0, "RMSprop", "alpha", options.alpha, ">= 0");
  detail::require(options.eps >= 0, "RMSprop", "eps", options.eps, ">= 0");
  detail::require(options.weight_decay >= 0, "RMSprop", "weight_decay", options.weight_decay,
                  ">= 0");
  detail::require(options.momentum >= 0, "RMSprop", "momentum", options.momentum, ">= 0");
}

// `grad_avg` is null unless centered, `buffer` null unless momentum > 0.
template <class T>
void update(T* param, const T* grad, T* square_avg, T* grad_avg, T* buffer, int64_t n, double lr,
            const RMSpropOptions& options) {
  const T alpha = static_cast<T>(options.alpha);
  const T one_minus_alpha = static_cast<T>(1 - options.alpha);
  const T decay = static_cast<T>(options.weight_decay);
  const T eps = static_cast<T>(options.eps);
  const T momentum = static_cast<T>(options.momentum);
  const T step = static_cast<T>(lr);
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

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<RMSpropParamGroup>{{std::move(params), options}}) {}

RMSprop::RMSprop(std::vector<RMSpropParamGroup> groups)
    : Optimizer("RMSprop", detail::to_param_groups(groups)), options_(detail::options_of(groups)) {
  for (const RMSpropOptions& options : options_) validate(options);
  state_.resize(parameters().size());
}

void RMSprop::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (size_t g = 0; g < param_groups().size(); ++g) {
    const ParamGroup& group = param_groups()[g];
    const RMSpropOptions& options = options_[g];
    for (Tensor param : group.params) {
      RMSpropParamState& state = state_[index++];
      const Tensor grad = detail::checked_grad("RMSprop", param);
      if (!grad.defined()) continue;
      if (!state.square_avg.defined()) state.square_avg = detail::zeros_like_param(param);
      if (options.centered && !state.grad_avg.defined())
        state.grad_avg = detail::zeros_like_param(param);
      if (options.momentum > 0 && !state.momentum_buffer.defined())
        state.momentum_buffer = detail::zeros_like_param(param);
      state.step += 1;
      detail::dispatch_floating(param.dtype(), [&]<class T>() {
        T* grad_avg = options.centered ? state.grad_avg.data<T>() : nullptr;
        T* buffer = options.momentum > 0 ? state.momentum_buffer.data<T>() : nullptr;
        update<T>(param.data<T>(), grad.data<T>(), state.square_avg.data<T>(), grad_avg, buffer,
                  param.numel(), group.lr, options);
      });
    }
  }
}

}  // namespace tg::optim
