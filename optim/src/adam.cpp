// Adam and AdamW: the shared per-element rule, and AdamW's options as Adam's.
#include "tapegrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

namespace {

std::vector<AdamParamGroup> as_adam_groups(std::vector<AdamWParamGroup> groups) {
  std::vector<AdamParamGroup> result;
  result.reserve(groups.size());
  for (AdamWParamGroup& group : groups) {
    const AdamWOptions& o = group.options;
    result.push_back({std::move(group.params),
                      {.lr = o.lr,
                       .betas = o.betas,
                       .eps = o.eps,
                       .weight_decay = o.weight_decay,
                       .amsgrad = o.amsgrad}});
  }
  return result;
}

}  // namespace

template class OptimizerBase<AdamOptions, AdamParamState, "Adam">;

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<AdamParamGroup>{{std::move(params), options}}) {}

Adam::Adam(std::vector<AdamParamGroup> groups) : Adam("Adam", std::move(groups), false) {}

Adam::Adam(const char* name, std::vector<AdamParamGroup> groups, bool decoupled_weight_decay)
    : OptimizerBase(name, std::move(groups), detail::check_options<AdamOptions>),
      decoupled_weight_decay_(decoupled_weight_decay) {}

void Adam::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  const double t = static_cast<double>(state.step += 1);
  const double beta1 = options.betas.first, beta2 = options.betas.second;
  const double step_size = options.lr / (1 - std::pow(beta1, t));
  const double bias_correction2 = std::sqrt(1 - std::pow(beta2, t));
  const double l2 = decoupled_weight_decay_ ? 0.0 : options.weight_decay;  // AdamW: 0
  const double shrink = decoupled_weight_decay_ ? 1 - options.lr * options.weight_decay : 1.0;
  auto rule = [=]<class T>(T& p, T g, T& m, T& v, auto&... v_max) {  // v_max: amsgrad only
    const T theta = p * T(shrink);                                   // Adam: shrink = 1
    adam_moments(p, g, m, v, l2, options.betas);
    T v_used = v;
    ((v_max = std::max(v_max, v), v_used = v_max), ...);
    p = theta - T(step_size) * m / (std::sqrt(v_used) / T(bias_correction2) + T(options.eps));
  };
  if (options.amsgrad)
    update_elements(name(), param, grad, kGrainModerate, rule, state.exp_avg, state.exp_avg_sq,
                    state.max_exp_avg_sq);
  else
    update_elements(name(), param, grad, kGrainModerate, rule, state.exp_avg, state.exp_avg_sq);
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : AdamW(std::vector<AdamWParamGroup>{{std::move(params), options}}) {}

AdamW::AdamW(std::vector<AdamWParamGroup> groups)
    : Adam("AdamW", as_adam_groups(std::move(groups)), true) {}

void AdamW::add_param_group(std::vector<Tensor> params) {
  Adam::add_param_group(std::move(params));
}

void AdamW::add_param_group(AdamWParamGroup group) {
  Adam::add_param_group(std::move(as_adam_groups({std::move(group)}).front()));
}

}  // namespace tg::optim
