// Leaf gradient sinks: a backward adding its gradient straight into a leaf's .grad() (GEMM with
// beta = 1) instead of returning it for the engine to add.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {

/// The .grad() of the leaf that input `input` of the running backward leads to, when that
/// backward may add its gradient for the input into it in place, else null. Only in a plain
/// backward (not create_graph, tg::grad, anomaly mode or tape inspection), only for a leaf
/// whose .grad() is already a contiguous tensor of the leaf's dtype and shape (the first
/// backward after zero_grad() still sets .grad() to a new tensor, as PyTorch).
Tensor* leaf_grad_sink(size_t input);

/// True when `sink` shares no storage with any of `operands`, so a product may write into it
/// while reading them.
bool sink_is_apart(const Tensor& sink, std::initializer_list<const Tensor*> operands);

/// Tells the engine that the running backward added its gradient for `input` into
/// leaf_grad_sink(input); returns the undefined tensor the backward then gives for the input.
Tensor accumulated_into_sink(size_t input);

/// The engine's side, for one walk: whether sinks are allowed, and which inputs of the running
/// record were accumulated into theirs. A walk nested in a backward (a hook calling backward)
/// has its own, restored when it ends.
class SinkScope {
 public:
  /// `enabled`: the walk accumulates into .grad() (not tg::grad) without create_graph; anomaly
  /// mode and tape inspection are asked only when a product asks for a sink.
  /// Out of line, beside `current`'s definition: UBSan took the inline store through the
  /// thread-local for a store through a null pointer.
  explicit SinkScope(bool enabled);
  ~SinkScope();
  SinkScope(const SinkScope&) = delete;
  SinkScope& operator=(const SinkScope&) = delete;
  /// Bit k set when input k of the record whose backward just ran went into its sink; clears
  /// them for the next record (only when set: the usual record writes nothing here).
  uint64_t take_accumulated() {
    const uint64_t bits = accumulated_;
    if (bits != 0) accumulated_ = 0;
    return bits;
  }

 private:
  friend Tensor accumulated_into_sink(size_t input);
  friend Tensor* leaf_grad_sink(size_t input);
  static thread_local SinkScope* current;  // the innermost walk of this thread, or null
  bool enabled_;
  uint64_t accumulated_ = 0;
  SinkScope* previous_;
};

}  // namespace tg::detail
