// tg::optim::update_elements: an optimizer's update written once as its per-element rule, run
// over a parameter, its gradient and its state buffers, vectorised and split across threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "tapegrad/autograd/dispatch.hpp"
#include "tapegrad/autograd/parallel_for.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::optim {

/// For a rule of a few multiply-adds (SGD).
inline constexpr int64_t kGrainCheap = tg::detail::kGrainCheap;
/// For a rule with a square root and a division (Adam, RMSprop, Adagrad, ...).
inline constexpr int64_t kGrainModerate = tg::detail::kGrainModerate;

namespace detail {

// Elements [begin, end). The pointers and the rule (a copy) are this function's own locals,
// not a lambda's captures, which GCC cannot prove the stores leave alone; and the rule works
// on local copies of the element's values, each loaded once and stored once, since through
// references into the arrays every store could alias the next load. So the loop, with the
// rule inlined into it, vectorises as the hand-written loops did.
template <class T, class Rule, size_t... I>
void update_range(T* param, const T* grad, std::array<T*, sizeof...(I)> buffers, int64_t begin,
                  int64_t end, Rule rule, std::index_sequence<I...>) {
  for (int64_t i = begin; i < end; ++i) {
    T p = param[i];
    const T g = grad[i];
    T state[sizeof...(I) + 1] = {buffers[I][i]...};  // + 1: no zero-length array
    rule(p, g, state[I]...);
    ((buffers[I][i] = state[I]), ...);  // the state first, then the parameter, as PyTorch
    param[i] = p;
  }
}

}  // namespace detail

/// Runs the per-element rule over every element of `param` in place: make_rule.template
/// operator()<T>() (T = float or double, the parameter's dtype) returns the rule, a callable
/// `(T& p, T g, T&... state)` with its per-step scalars already in T, called once per element
/// with the parameter, the gradient and each of `buffers` at that element. Undefined buffers
/// are first created as zeros shaped like `param`. `grain` is the elements per thread below
/// which the loop is not split. Throws tg::Error naming `optimizer` for an i64 parameter.
///
///     update_elements(name(), param, grad, kGrainModerate, [&]<class T>() {
///       const T lr = T(options.lr), beta = T(options.beta);
///       return [=](T& p, T g, T& avg) { avg = beta * avg + g; p -= lr * avg; };
///     }, state.avg);
template <class MakeRule, class... Buffers>
void update_elements(const char* optimizer, Tensor& param, const Tensor& grad, int64_t grain,
                     MakeRule&& make_rule, Buffers&... buffers) {
  ((buffers.defined() ? void()
                      : void(buffers = tg::zeros(param.shape(), {.dtype = param.dtype()}))),
   ...);
  auto run = [&]<class T>() {
    const auto rule = make_rule.template operator()<T>();
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    tg::detail::parallel_for(param.numel(), grain, [&](int64_t begin, int64_t end) {
      detail::update_range(p, g, std::array<T*, sizeof...(Buffers)>{buffers.template data<T>()...},
                           begin, end, rule, std::index_sequence_for<Buffers...>());
    });
  };
  tg::detail::dispatch_floating(optimizer, param.dtype(), run);
}

}  // namespace tg::optim
