// tg::optim::update_elements: an optimizer's update written once as its per-element rule, run
// over a parameter, its gradient and its state buffers, vectorised and split across threads;
// and adam_moments, the part of that rule the Adam family shares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tapegrad/autograd/dispatch.hpp"
#include "tapegrad/autograd/parallel_for.hpp"
#include "tapegrad/autograd/tensor.hpp"
#include "tapegrad/optim/members.hpp"

namespace tg::optim {

/// For a rule of a few multiply-adds (SGD).
inline constexpr int64_t kGrainCheap = tg::detail::kGrainCheap;
/// For a rule with a square root and a division (Adam, RMSprop, Adagrad, ...).
inline constexpr int64_t kGrainModerate = tg::detail::kGrainModerate;

namespace detail {

// Elements [begin, end). The pointers are `__restrict` parameters of a function of its own
// (not inlined, so GCC keeps that promise, and not a lambda's captures, which GCC cannot prove
// the stores leave alone): the rule, inlined into the loop, then reads and writes the arrays'
// elements in place, a value it has stored stays in a register, and the loop vectorises as the
// hand-written loops did. Unrolled twice, the loop's counter and branch cost half as much per
// element, which pays for the registers the rule's constants take (RMSprop centered with
// momentum spilled one more instruction per vector than its hand-written loop otherwise).
template <class T, class Rule, class... Buffer>
[[gnu::noinline]] void update_range(T* __restrict param, const T* __restrict grad, int64_t begin,
                                    int64_t end, Rule rule, Buffer* __restrict... buffers) {
#pragma GCC unroll 2
  for (int64_t i = begin; i < end; ++i) rule(param[i], grad[i], buffers[i]...);
}

/// Whether this CPU runs AVX2 (checked once).
bool cpu_has_avx2();

#if defined(__x86_64__)
// The same loop compiled for AVX2, 8 floats a vector where the baseline x86-64 build has SSE2's
// 4, run where the CPU has it. AVX2 without FMA: each element's arithmetic is the baseline's,
// so the results are the same to the bit.
template <class T, class Rule, class... Buffer>
[[gnu::noinline, gnu::target("avx2")]] void update_range_avx2(T* __restrict param,
                                                              const T* __restrict grad,
                                                              int64_t begin, int64_t end, Rule rule,
                                                              Buffer* __restrict... buffers) {
#pragma GCC unroll 2
  for (int64_t i = begin; i < end; ++i) rule(param[i], grad[i], buffers[i]...);
}
#endif

// The Buffer members of `state` (tensors that carry a state-dict name), in declaration order,
// as a tuple of references.
template <class State>
auto buffers_of(State& state) {
  auto keep_buffer = []<class Member>(Member& member) {
    if constexpr (std::is_base_of_v<Tensor, Member> && requires { Member::name; })
      return std::tie(member);
    else
      return std::tuple<>();
  };
  return std::apply([&](auto&... member) { return std::tuple_cat(keep_buffer(member)...); },
                    tie_members(state));
}

}  // namespace detail

/// Runs the per-element rule over every element of `param` in place. `rule` is a generic
/// callable `<class T>(T& p, T g, T&... state)`, called once per element with the parameter,
/// the gradient and each of `buffers` at that element, T being the parameter's dtype (float or
/// double); it converts its per-step scalars to T where it uses them (`T(lr) * g`), and the
/// compiler hoists those conversions out of the loop. The buffers are distinct tensors, none of
/// them `param` or `grad` (the loop assumes no overlap); undefined buffers are first created
/// as zeros shaped like `param`. `grain` is the elements per thread below which the loop is
/// not split. Throws tg::Error naming `optimizer` for an i64 parameter.
///
///     update_elements(name(), param, grad, kGrainCheap, [=]<class T>(T& p, T g, T& avg) {
///       avg = T(beta) * avg + g;
///       p -= T(lr) * avg;
///     }, state.avg);
template <class Rule, class... Buffers>
void update_elements(const char* optimizer, Tensor& param, const Tensor& grad, int64_t grain,
                     const Rule& rule, Buffers&... buffers) {
  ((buffers.defined() ? void()
                      : void(buffers = tg::zeros(param.shape(), {.dtype = param.dtype()}))),
   ...);
  auto run = [&]<class T>() {
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    tg::detail::parallel_for(param.numel(), grain, [&](int64_t begin, int64_t end) {
#if defined(__x86_64__)
      if (detail::cpu_has_avx2())
        return detail::update_range_avx2(p, g, begin, end, rule, buffers.template data<T>()...);
#endif
      detail::update_range(p, g, begin, end, rule, buffers.template data<T>()...);
    });
  };
  tg::detail::dispatch_floating(optimizer, param.dtype(), run);
}

/// The same, for a rule that takes every buffer of the parameter's `state` (its `Buffer<...>`
/// members, in the order the state struct declares them), split across threads at
/// kGrainModerate:
///
///     update_elements(name(), param, grad, state, [=]<class T>(T& p, T g, T& m, T& v) {
///       ...
///     });  // m = state.exp_avg, v = state.exp_avg_sq
template <class State, class Rule>
requires std::is_class_v<State>
void update_elements(const char* optimizer, Tensor& param, const Tensor& grad, State& state,
                     const Rule& rule) {
  std::apply(
      [&](auto&... buffers) {
        update_elements(optimizer, param, grad, kGrainModerate, rule, buffers...);
      },
      detail::buffers_of(state));
}

/// The step Adam, NAdam and RAdam share, for use inside a rule: L2 weight decay λ enters the
/// gradient, then the moving averages of the gradient and of its square take it in:
/// g ← g + λθ;  m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g².
template <class T>
void adam_moments(T p, T& g, T& m, T& v, double weight_decay, std::pair<double, double> betas) {
  g += T(weight_decay) * p;
  m = T(betas.first) * m + T(1 - betas.first) * g;
  v = T(betas.second) * v + T(1 - betas.second) * g * g;
}

}  // namespace tg::optim
