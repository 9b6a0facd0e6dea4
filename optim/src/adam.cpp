// Adam and AdamW: option checks and the shared in-place update.
#include "tapegrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const AdamOptions& options) {
  detail::require(options.lr >= 0, name, "learning rate", options.lr, ">= 0");
  detail::require(options.eps >= 0, name, "eps", options.eps, ">= 0");
  detail::require(options.betas.first >= 0 && options.betas.first < 1, name, "beta1",
                  options.betas.first, "in [0, 1)");
  detail::require(options.betas.second >= 0 && options.betas.second < 1, name, "beta2",
                  options.betas.second, "in [0, 1)");
  detail::require(options.weight_decay >= 0, name, "weight_decay", options.weight_decay, ">= 0");
}

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

template class OptimizerBase<AdamOptions, AdamParamState>;

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(std::vector<AdamParamGroup>{{std::move(params), options}}) {}

Adam::Adam(std::vector<AdamParamGroup> groups) : Adam("Adam", std::move(groups), false) {}

Adam::Adam(const char* name, std::vector<AdamParamGroup> groups, bool decoupled_weight_decay)
    : OptimizerBase(name, std::move(groups), validate),
      decoupled_weight_decay_(decoupled_weight_decay) {}

void Adam::update(Tensor& param, const Tensor& grad, AdamParamState& state,
                  const AdamOptions& options) {
  state.step += 1;
  const double t = static_cast<double>(state.step);
  const auto [beta1, beta2] = options.betas;
  const bool decoupled = decoupled_weight_decay_;
  auto rule = [&]<class T>() {
    const T b1 = T(beta1), b2 = T(beta2), one_minus_b1 = T(1 - beta1), one_minus_b2 = T(1 - beta2);
    const T step_size = T(options.lr / (1 - std::pow(beta1, t)));
    const T bias_correction2 = T(std::sqrt(1 - std::pow(beta2, t))), eps = T(options.eps);
    const T l2 = T(decoupled ? 0.0 : options.weight_decay);                       // AdamW: 0
    const T shrink = T(decoupled ? 1 - options.lr * options.weight_decay : 1.0);  // Adam: 1
    return [=](T& p, T g, T& m, T& v, auto&... v_max) {  // v_max: amsgrad only
      const T theta = p * shrink;
      g += l2 * p;
      m = b1 * m + one_minus_b1 * g;
      v = b2 * v + one_minus_b2 * g * g;
      T v_used = v;
      ((v_max = std::max(v_max, v), v_used = v_max), ...);
      p = theta - step_size * m / (std::sqrt(v_used) / bias_correction2 + eps);
    };
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
