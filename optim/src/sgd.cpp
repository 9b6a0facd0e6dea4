// SGD: option checks and the in-place update.
#include "tapegrad/optim/sgd.hpp"

#include "tapegrad/optim/optimizer_base.hpp"

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

}  // namespace

template class OptimizerBase<SGDOptions, SGDParamState>;

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<SGDParamGroup>{{std::move(params), options}}) {}

SGD::SGD(std::vector<SGDParamGroup> groups) : OptimizerBase("SGD", std::move(groups), validate) {}

void SGD::update(Tensor& param, const Tensor& grad, SGDParamState& state,
                 const SGDOptions& options) {
  // A fresh momentum buffer is set to g, without dampening, as PyTorch does.
  const bool first = !state.momentum_buffer.defined();
  auto rule = [&]<class T>() {
    const T sign = options.maximize ? T(-1) : T(1), decay = T(options.weight_decay);
    const T momentum = T(options.momentum), keep = T(1 - options.dampening), lr = T(options.lr);
    const bool nesterov = options.nesterov;
    return [=](T& p, T g, auto&... buffer) {  // buffer: b, if μ ≠ 0
      g = sign * g + decay * p;
      ((buffer = first ? g : momentum * buffer + keep * g,
        g = nesterov ? g + momentum * buffer : buffer),
       ...);
      p -= lr * g;
    };
  };
  if (options.momentum != 0)
    update_elements(name(), param, grad, kGrainCheap, rule, state.momentum_buffer);
  else
    update_elements(name(), param, grad, kGrainCheap, rule);
}

}  // namespace tg::optim
