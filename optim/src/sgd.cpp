// SGD: option checks and the in-place update.
#include "tapegrad/optim/sgd.hpp"

#include "optimizer_base.hpp"
#include "parallel.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const SGDOptions& options) {
  detail::require(options.lr >= 0, name, "learning rate", options.lr, ">= 0");
  detail::require(options.momentum >= 0, name, "momentum", options.momentum, ">= 0");
  detail::require(options.weight_decay >= 0, name, "weight_decay", options.weight_decay, ">= 0");
  if (options.nesterov) {
    detail::require(options.momentum > 0, name, "momentum for nesterov", options.momentum,
                    "> 0 when nesterov is set");
    detail::require(options.dampening == 0, name, "dampening for nesterov", options.dampening,
                    "0 when nesterov is set");
  }
}

// Elements [begin, end), so parallel_for can split large parameters; pointers and constants
// are locals here, not a lambda's captures, so the loops vectorise. `first` says the momentum
// buffer is fresh: PyTorch sets b = g then, without dampening.
template <class T>
void update_values(T* param, const T* grad, T* buffer, int64_t begin, int64_t end,
                   const SGDOptions& options, bool first) {
  const T sign = options.maximize ? T(-1) : T(1);
  const T decay = static_cast<T>(options.weight_decay);
  const T momentum = static_cast<T>(options.momentum);
  const T keep = static_cast<T>(1 - options.dampening);
  const T step = static_cast<T>(options.lr);
  if (buffer == nullptr) {
    for (int64_t i = begin; i < end; ++i) param[i] -= step * (sign * grad[i] + decay * param[i]);
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    T g = sign * grad[i] + decay * param[i];
    const T b = first ? g : momentum * buffer[i] + keep * g;
    buffer[i] = b;
    g = options.nesterov ? g + momentum * b : b;
    param[i] -= step * g;
  }
}

}  // namespace

template class OptimizerBase<SGDOptions, SGDParamState>;

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<SGDParamGroup>{{std::move(params), options}}) {}

SGD::SGD(std::vector<SGDParamGroup> groups) : OptimizerBase("SGD", std::move(groups), validate) {}

void SGD::update(Tensor& param, const Tensor& grad, SGDParamState& state,
                 const SGDOptions& options) {
  bool first = false;
  if (options.momentum != 0 && !state.momentum_buffer.defined()) {
    state.momentum_buffer = detail::zeros_like_param(param);
    first = true;
  }
  detail::dispatch_floating(name(), param.dtype(), [&]<class T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* buffer = options.momentum != 0 ? state.momentum_buffer.data<T>() : nullptr;
    tg::detail::parallel_for(param.numel(), tg::detail::kGrainCheap,
                             [&](int64_t begin, int64_t end) {
                               update_values(p, g, buffer, begin, end, options, first);
                             });
  });
}

}  // namespace tg::optim
