// RMSprop: option checks and the in-place update.
#include "tapegrad/optim/rmsprop.hpp"

#include <cmath>

#include "optimizer_base.hpp"
#include "parallel.hpp"

namespace tg::optim {

namespace {

void validate(const char* name, const RMSpropOptions& options) {
  detail::require(options.lr >= 0, name, "learning rate", options.lr, ">= 0");
  detail::require(options.alpha >= 0, name, "alpha", options.alpha, ">= 0");
  detail::require(options.eps >= 0, name, "eps", options.eps, ">= 0");
  detail::require(options.weight_decay >= 0, name, "weight_decay", options.weight_decay, ">= 0");
  detail::require(options.momentum >= 0, name, "momentum", options.momentum, ">= 0");
}

// One pass per parameter on elements [begin, end), so parallel_for can split large
// parameters; a branch-free body for each combination of centered and momentum, and pointers
// and constants that are locals here rather than a lambda's captures, so each vectorises.
// `grad_avg` is null unless kCentered, `buffer` null unless kMomentum.
template <bool kCentered, bool kMomentum, class T>
void update_values(T* param, const T* grad, T* square_avg, T* grad_avg, T* buffer, int64_t begin,
                   int64_t end, const RMSpropOptions& options) {
  const T alpha = static_cast<T>(options.alpha);
  const T one_minus_alpha = static_cast<T>(1 - options.alpha);
  const T decay = static_cast<T>(options.weight_decay);
  const T eps = static_cast<T>(options.eps);
  const T momentum = static_cast<T>(options.momentum);
  const T step = static_cast<T>(options.lr);
  for (int64_t i = begin; i < end; ++i) {
    const T g = grad[i] + decay * param[i];
    const T v = alpha * square_avg[i] + one_minus_alpha * g * g;
    square_avg[i] = v;
    T variance = v;
    if constexpr (kCentered) {
      const T mean = alpha * grad_avg[i] + one_minus_alpha * g;
      grad_avg[i] = mean;
      variance = v - mean * mean;
    }
    const T scaled = g / (std::sqrt(variance) + eps);
    if constexpr (kMomentum) {
      const T b = momentum * buffer[i] + scaled;
      buffer[i] = b;
      param[i] -= step * b;
    } else {
      param[i] -= step * scaled;
    }
  }
}

}  // namespace

template class OptimizerBase<RMSpropOptions, RMSpropParamState>;

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(std::vector<RMSpropParamGroup>{{std::move(params), options}}) {}

RMSprop::RMSprop(std::vector<RMSpropParamGroup> groups)
    : OptimizerBase("RMSprop", std::move(groups), validate) {}

void RMSprop::update(Tensor& param, const Tensor& grad, RMSpropParamState& state,
                     const RMSpropOptions& options) {
  if (!state.square_avg.defined()) state.square_avg = detail::zeros_like_param(param);
  if (options.centered && !state.grad_avg.defined())
    state.grad_avg = detail::zeros_like_param(param);
  if (options.momentum > 0 && !state.momentum_buffer.defined())
    state.momentum_buffer = detail::zeros_like_param(param);
  state.step += 1;
  detail::dispatch_floating(name(), param.dtype(), [&]<class T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* square_avg = state.square_avg.data<T>();
    T* grad_avg = options.centered ? state.grad_avg.data<T>() : nullptr;
    T* buffer = options.momentum > 0 ? state.momentum_buffer.data<T>() : nullptr;
    tg::detail::parallel_for(
        param.numel(), tg::detail::kGrainModerate, [&](int64_t begin, int64_t end) {
          if (grad_avg != nullptr && buffer != nullptr)
            update_values<true, true>(p, g, square_avg, grad_avg, buffer, begin, end, options);
          else if (grad_avg != nullptr)
            update_values<true, false>(p, g, square_avg, grad_avg, buffer, begin, end, options);
          else if (buffer != nullptr)
            update_values<false, true>(p, g, square_avg, grad_avg, buffer, begin, end, options);
          else
            update_values<false, false>(p, g, square_avg, grad_avg, buffer, begin, end, options);
        });
  });
}

}  // namespace tg::optim
