// Adam and AdamW: option checks and the shared in-place update.
#include "tapegrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

#include "optimizer_base.hpp"
#include "parallel.hpp"

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

// The per-step scalars, computed once per parameter in double.
struct Coefficients {
  double step_size;         // γ / (1 − β1^t)
  double bias_correction2;  // √(1 − β2^t)
  double l2_decay;          // λ for Adam, 0 for AdamW
  double decoupled_shrink;  // 1 − γλ for AdamW, 1 for Adam
};

// One pass per parameter: each element's p, g, m, v (and v_max) are read once and p, m, v
// (and v_max) written once, in a loop that vectorises (a branch-free body for each value of
// kAmsgrad). It runs on elements [begin, end), so parallel_for can split large parameters;
// pointers and constants are this function's own locals, not a lambda's captures, which GCC
// cannot prove the stores leave alone (the loop ran scalar that way). `max_exp_avg_sq` is null
// unless kAmsgrad.
template <bool kAmsgrad, class T>
void update_values(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq,
                   int64_t begin, int64_t end, const AdamOptions& options, const Coefficients& c) {
  const T beta1 = static_cast<T>(options.betas.first);
  const T beta2 = static_cast<T>(options.betas.second);
  const T one_minus_beta1 = static_cast<T>(1 - options.betas.first);
  const T one_minus_beta2 = static_cast<T>(1 - options.betas.second);
  const T eps = static_cast<T>(options.eps);
  const T step_size = static_cast<T>(c.step_size);
  const T bias_correction2 = static_cast<T>(c.bias_correction2);
  const T l2_decay = static_cast<T>(c.l2_decay);
  const T shrink = static_cast<T>(c.decoupled_shrink);
  for (int64_t i = begin; i < end; ++i) {
    const T p = param[i];
    const T theta = p * shrink;
    const T g = grad[i] + l2_decay * p;
    const T m = beta1 * exp_avg[i] + one_minus_beta1 * g;
    const T v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    T v_used = v;
    if constexpr (kAmsgrad) {
      v_used = std::max(max_exp_avg_sq[i], v);
      max_exp_avg_sq[i] = v_used;
    }
    param[i] = theta - step_size * m / (std::sqrt(v_used) / bias_correction2 + eps);
  }
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
  if (!state.exp_avg.defined()) {
    state.exp_avg = detail::zeros_like_param(param);
    state.exp_avg_sq = detail::zeros_like_param(param);
  }
  if (options.amsgrad && !state.max_exp_avg_sq.defined())
    state.max_exp_avg_sq = detail::zeros_like_param(param);
  state.step += 1;
  const double t = static_cast<double>(state.step);
  const Coefficients c{
      .step_size = options.lr / (1 - std::pow(options.betas.first, t)),
      .bias_correction2 = std::sqrt(1 - std::pow(options.betas.second, t)),
      .l2_decay = decoupled_weight_decay_ ? 0.0 : options.weight_decay,
      .decoupled_shrink = decoupled_weight_decay_ ? 1 - options.lr * options.weight_decay : 1.0,
  };
  detail::dispatch_floating(name(), param.dtype(), [&]<class T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* m = state.exp_avg.data<T>();
    T* v = state.exp_avg_sq.data<T>();
    T* v_max = options.amsgrad ? state.max_exp_avg_sq.data<T>() : nullptr;
    tg::detail::parallel_for(param.numel(), tg::detail::kGrainModerate,
                             [&](int64_t begin, int64_t end) {
                               if (v_max != nullptr)
                                 update_values<true>(p, g, m, v, v_max, begin, end, options, c);
                               else
                                 update_values<false>(p, g, m, v, v_max, begin, end, options, c);
                             });
  });
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
