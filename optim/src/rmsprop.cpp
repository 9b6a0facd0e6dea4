// RMSprop: the per-element rule, one loop per combination of centered and momentum.
#include "tapegrad/optim/rmsprop.hpp"

#include <cmath>
#include <tuple>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

template class OptimizerBase<RMSpropOptions, RMSpropParamState, "RMSprop">;

void RMSprop::update(Tensor& param, const Tensor& grad, State& state, const Options& options) {
  state.step += 1;
  // One rule per combination of centered and momentum, so each loop is branch-free.
  auto rule = [&]<bool kCentered, bool kMomentum>() {
    return [=]<class T>(T& p, T g, T& v, auto&... more) {  // g_ave if centered, b if μ > 0
      const T alpha = T(options.alpha), one_minus_alpha = T(1 - options.alpha);
      g += T(options.weight_decay) * p;
      v = alpha * v + one_minus_alpha * g * g;
      T variance = v;
      auto optional = std::tie(more...);
      if constexpr (kCentered) {
        T& mean = std::get<0>(optional);
        mean = alpha * mean + one_minus_alpha * g;
        variance = v - mean * mean;
      }
      const T scaled = g / (std::sqrt(variance) + T(options.eps));
      if constexpr (kMomentum) {
        T& b = std::get < kCentered ? 1 : 0 > (optional);
        b = scaled + T(options.momentum) * b;
        p -= T(options.lr) * b;
      } else {
        p -= T(options.lr) * scaled;
      }
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
