// Backward hooks: "this leaf's gradient is final for this backward" and end-of-backward callbacks.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::autograd {

/// Registers `hook` on the leaf `leaf` and returns an id for remove_post_accumulate_grad_hook.
/// In every backward() that reaches the leaf, the engine calls hook(leaf) exactly once, right
/// after it has added the last contribution of that backward to leaf.grad(), while the rest of
/// the backward still runs (PyTorch's register_post_accumulate_grad_hook). It is not called in
/// a backward that delivers no gradient to the leaf, nor by tg::grad (which leaves .grad()
/// alone). Hooks run in registration order on the backward's thread; one that throws aborts
/// the backward. Throws tg::Error for an undefined tensor or a non-leaf.
///
///     uint64_t id = tg::autograd::register_post_accumulate_grad_hook(
///         w, [](const tg::Tensor& leaf) { /* leaf.grad() is final for this backward */ });
uint64_t register_post_accumulate_grad_hook(const Tensor& leaf,
                                            std::function<void(const Tensor&)> hook);

/// Removes the hook `id` from `leaf`; an unknown id is ignored.
void remove_post_accumulate_grad_hook(const Tensor& leaf, uint64_t id);

/// Queues `callback` to run once when the backward now running on this thread ends, after every
/// gradient is accumulated; callbacks run in the order queued. If the backward ends by an
/// exception, each callback still runs with that exception as `failure` (null on success) and
/// the exception then propagates, unless a callback throws its own, which replaces it. Meant to
/// be called from a hook or a custom op's backward; throws tg::Error outside a backward.
void queue_callback(std::function<void(std::exception_ptr failure)> callback);

}  // namespace tg::autograd
