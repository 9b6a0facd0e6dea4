// SGD: option checks and the in-place update loop.
#include "tapegrad/optim/sgd.hpp"

#include "common.hpp"
#include "tapegrad/autograd/grad_mode.hpp"

namespace tg::optim {

namespace {

void validate(const SGDOptions& options) {
  detail::require(options.lr >= 0, "SGD", "learning rate", options.lr, ">= 0");
  detail::require(options.momentum >= 0, "SGD", "momentum", options.momentum, ">= 0");
  detail::require(options.weight_decay >= 0, "SGD", "weight_decay", options.weight_decay, ">= 0");
  if (options.nesterov) {
    detail::require(options.momentum > 0, "SGD", "momentum for nesterov", options.momentum,
                    "> 0 when nesterov is set");
    detail::require(options.dampening == 0, "SGD", "dampening for nesterov", options.dampening,
                    "0 when nesterov is set");
  }
}

// `first` says the momentum buffer is fresh: PyTorch sets b = g then, without dampening.
template <class T>
void update(T* param, const T* grad, T* buffer, int64_t n, const SGDOptions& options, double lr,
            bool first) {
  const T sign = options.maximize ? T(-1) : T(1);
  const T decay = static_cast<T>(options.weight_decay);
  const T momentum = static_cast<T>(options.momentum);
  const T keep = static_cast<T>(1 - options.dampening);
  const T step = static_cast<T>(lr);
  if (buffer == nullptr) {
    for (int64_t i = 0; i < n; ++i) param[i] -= step * (sign * grad[i] + decay * param[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    T g = sign * grad[i] + decay * param[i];
    const T b = first ? g : momentum * buffer[i] + keep * g;
    buffer[i] = b;
    g = options.nesterov ? g + momentum * b : b;
    param[i] -= step * g;
  }
}

}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<SGDParamGroup>{{std::move(params), options}}) {}

SGD::SGD(std::vector<SGDParamGroup> groups)
    : Optimizer("SGD", detail::to_param_groups(groups)), options_(detail::options_of(groups)) {
  for (const SGDOptions& options : options_) validate(options);
  state_.resize(parameters().size());
}

void SGD::step() {
  NoGradGuard no_grad;
  size_t index = 0;
  for (size_t g = 0; g < param_groups().size(); ++g) {
    const ParamGroup& group = param_groups()[g];
    const SGDOptions& options = options_[g];
    for (Tensor param : group.params) {
      SGDParamState& state = state_[index++];
      const Tensor grad = detail::checked_grad("SGD", param);
      if (!grad.defined()) continue;
      bool first = false;
      if (options.momentum != 0 && !state.momentum_buffer.defined()) {
        state.momentum_buffer = detail::zeros_like_param(param);
        first = true;
      }
      detail::dispatch_floating(param.dtype(), [&]<class T>() {
        T* buffer = options.momentum != 0 ? state.momentum_buffer.data<T>() : nullptr;
        update<T>(param.data<T>(), grad.data<T>(), buffer, param.numel(), options, group.lr, first);
      });
    }
  }
}

}  // namespace tg::optim
