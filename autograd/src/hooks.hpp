// The engine's side of the backward hooks: each leaf's hook list and this thread's callback queue.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {

/// The post-accumulate-grad hooks of one leaf, with their ids.
struct LeafHooks {
  LeafHooks();
  ~LeafHooks();
  LeafHooks(const LeafHooks&) = delete;
  LeafHooks& operator=(const LeafHooks&) = delete;
  /// Whether any leaf has hooks: when none has, a backward skips the pass that finds the hooked
  /// leaves it reaches (a pass over every record of the graph).
  static bool any_alive();

  std::vector<std::pair<uint64_t, std::function<void(const Tensor&)>>> hooks;
};

/// The callbacks queued during one backward; the engine installs one per backward (nested
/// backwards, e.g. inside a custom op, get their own) and runs it as the backward ends.
class CallbackQueue {
 public:
  CallbackQueue();
  ~CallbackQueue();
  CallbackQueue(const CallbackQueue&) = delete;
  CallbackQueue& operator=(const CallbackQueue&) = delete;
  void push(std::function<void(std::exception_ptr)> callback);
  /// Runs and clears the queued callbacks (including ones queued while they run).
  void run(std::exception_ptr failure);

 private:
  std::vector<std::function<void(std::exception_ptr)>> callbacks_;
  CallbackQueue* previous_;
};

/// The queue of the backward running on this thread, or null.
CallbackQueue* current_callback_queue();

}  // namespace tg::detail
