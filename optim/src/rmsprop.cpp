// RMSprop: option checks and the in-place update.
#include "tapegrad/optim/rmsprop.hpp"

#include <cmath>
#include <tuple>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const RMSpropOptions& options) {
  detail::require(options.lr >= 0, name, "learning rate", options.lr, ">= 0");
  detail::require(options.alpha >= 0, name, "alpha", options.alpha, ">= 0");
  detail::require(options.eps >= 0, name, "eps", options.eps, ">= 0");
  detail::require(options.weight_decay >= 0, name, "weight_decay", options.weight_decay, ">= 0");
  detail::require(options.momentum >= 0, name, "momentum", options.momentum, ">= 0");
}

}  // namespace

template class OptimizerBase<RMSpropOptions, RMSpropParamState>;

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<RMSpropParamGroup>{{std::move(params), options}}) {}

RMSprop::RMSprop(std::vector<RMSpropParamGroup> groups)
    : OptimizerBase("RMSprop", std::move(groups), validate) {}

void RMSprop::update(Tensor& param, const Tensor& grad, RMSpropParamState& state,
                     const RMSpropOptions& options) {
  state.step += 1;
  // One rule per combination of centered and momentum, so each loop is branch-free.
  auto rule = [&]<bool kCentered, bool kMomentum>() {
    return [&]<class T>() {
      const T alpha = T(options.alpha), one_minus_alpha = T(1 - options.alpha);
      const T decay = T(options.weight_decay), eps = T(options.eps);
      const T momentum = T(options.momentum), lr = T(options.lr);
      return [=](T& p, T g, T& v, auto&... more) {  // more: g_ave if centered, then b if μ > 0
        g += decay * p;
        v = alpha * v + one_minus_alpha * g * g;
        T variance = v;
        auto optional = std::tie(more...);
        if constexpr (kCentered) {
          T& mean = std::get<0>(optional);
          mean = alpha * mean + one_minus_alpha * g;
          variance = v - mean * mean;
        }
        const T scaled = g / (std::sqrt(variance) + eps);
        if constexpr (kMomentum) {
          T& b = std::get < kCentered ? 1 : 0 > (optional);
          b = scaled + momentum * b;
          p -= lr * b;
        } else {
          p -= lr * scaled;
        }
      };
    };
  };
  Tensor &v = state.square_avg, &mean = state.grad_avg, &b = state.momentum_buffer;
  const bool centered = options.centered, with_momentum = options.momentum > 0;
  if (centered && with_momentum)
    update_elements(name(), param, grad, kGrainModerate, rule.template operator()<true, true>(), v,
                    mean, b);
  else if (centered)
    update_elements(name(), param, grad, kGrainModerate, rule.template operator()<true, false>(), v,
                    mean);
  else if (with_momentum)
    update_elements(name(), param, grad, kGrainModerate, rule.template operator()<false, true>(), v,
                    b);
  else
    update_elements(name(), param, grad, kGrainModerate, rule.template operator()<false, false>(),
                    v);
}

}  // namespace tg::optim
