// Backward hooks: registering post-accumulate-grad hooks on leaves and queueing callbacks.
#include "hooks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "node.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/hooks.hpp"
#include "tensor_impl.hpp"

namespace tg::detail {
namespace {
thread_local CallbackQueue* current_queue = nullptr;
std::atomic<int64_t> live_leaf_hooks{0};  // LeafHooks objects alive, over all threads
}  // namespace

CallbackQueue::CallbackQueue() : previous_(current_queue) { current_queue = this; }
CallbackQueue::~CallbackQueue() { current_queue = previous_; }

void CallbackQueue::push(std::function<void(std::exception_ptr)> callback) {
  callbacks_.push_back(std::move(callback));
}

void CallbackQueue::run(std::exception_ptr failure) {
  for (size_t i = 0; i < callbacks_.size(); ++i) {
    auto callback = std::move(callbacks_[i]);
    callback(failure);
  }
  callbacks_.clear();
}

CallbackQueue* current_callback_queue() { return current_queue; }

LeafHooks::LeafHooks() { live_leaf_hooks.fetch_add(1, std::memory_order_relaxed); }
LeafHooks::~LeafHooks() { live_leaf_hooks.fetch_sub(1, std::memory_order_relaxed); }
bool LeafHooks::any_alive() { return live_leaf_hooks.load(std::memory_order_relaxed) != 0; }

}  // namespace tg::detail

namespace tg::autograd {

uint64_t register_post_accumulate_grad_hook(const Tensor& leaf,
                                            std::function<void(const Tensor&)> hook) {
  if (!leaf.defined()) throw Error("register_post_accumulate_grad_hook: the tensor is undefined");
  if (!leaf.is_leaf())
    throw Error(fmt::format(
        "register_post_accumulate_grad_hook: the tensor of shape {} is not a leaf (it was "
        "computed by '{}'); hooks can only be registered on leaves",
        format_shape(leaf.shape()), leaf.impl()->grad_fn->name));
  if (!hook) throw Error("register_post_accumulate_grad_hook: the hook is empty");
  static std::atomic<uint64_t> next_id{0};
  auto& hooks = leaf.impl()->hooks;
  if (!hooks) hooks = std::make_shared<detail::LeafHooks>();
  const uint64_t id = next_id.fetch_add(1, std::memory_order_relaxed) + 1;
  hooks->hooks.emplace_back(id, std::move(hook));
  return id;
}

void remove_post_accumulate_grad_hook(const Tensor& leaf, uint64_t id) {
  if (!leaf.defined() || !leaf.impl()->hooks) return;
  auto& list = leaf.impl()->hooks->hooks;
  std::erase_if(list, [id](const auto& entry) { return entry.first == id; });
  if (list.empty()) leaf.impl()->hooks.reset();
}

void queue_callback(std::function<void(std::exception_ptr failure)> callback) {
  detail::CallbackQueue* queue = detail::current_callback_queue();
  if (queue == nullptr)
    throw Error(
        "queue_callback: no backward is running on this thread; queue callbacks from a "
        "hook or a custom op's backward");
  queue->push(std::move(callback));
}

}  // namespace tg::autograd
