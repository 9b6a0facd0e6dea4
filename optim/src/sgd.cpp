// SGD: option checks and the in-place update.
#include "tapegrad/optim/sgd.hpp"

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const SGDOptions& options) {
  detail::check_options(name, options);
  if (options.nesterov) {
    detail::require(options.momentum > 0, name, "momentum for nesterov", options.momentum,
                    "> 0 when nesterov is set");
    detail::require(options.dampening == 0, name, "dampening for nesterov", options.dampening,
                    "0 when nesterov is set");
  }
}

}  // namespace

template class OptimizerBase<SGDOptions, SGDParamState, "SGD">;

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(std::vector<SGDParamGroup>{{std::move(params), options}}) {}

SGD::SGD(std::vector<SGDParamGroup> groups) : OptimizerBase("SGD", std::move(groups), validate) {}

void SGD::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  // A fresh momentum buffer is set to g, without dampening, as PyTorch does.
  const bool first = !state.momentum_buffer.defined();
  auto rule = [=]<class T>(T& p, T g, auto&... buffer) {  // buffer: b, if μ ≠ 0
    g = T(options.maximize ? -1 : 1) * g + T(options.weight_decay) * p;
    ((buffer = first ? g : T(options.momentum) * buffer + T(1 - options.dampening) * g,
      g = options.nesterov ? g + T(options.momentum) * buffer : buffer),
     ...);
    p -= T(options.lr) * g;
  };
  if (options.momentum != 0)
    update_elements(name(), param, grad, kGrainCheap, rule, state.momentum_buffer);
  else
    update_elements(name(), param, grad, kGrainCheap, rule);
}

}  // namespace tg::optim
