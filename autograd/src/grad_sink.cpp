// Leaf gradient sinks: which .grad() a running backward may accumulate into, and the record of
// which inputs it did.
#include "grad_sink.hpp"

#include "node.hpp"
#include "record.hpp"
#include "tapegrad/autograd/anomaly.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg::detail {
thread_local SinkScope* SinkScope::current = nullptr;

SinkScope::SinkScope(bool enabled) : enabled_(enabled), previous_(current) { current = this; }

SinkScope::~SinkScope() { current = previous_; }

Tensor* leaf_grad_sink(size_t input) {
  const SinkScope* scope = SinkScope::current;
  const Node* n = running_record();
  // 64 inputs at most: the engine keeps one bit per input.
  if (scope == nullptr || !scope->enabled_ || n == nullptr || input >= n->edges.size() ||
      input >= 64 || autograd::is_anomaly_enabled() || autograd::is_inspecting_tape())
    return nullptr;
  const Edge& edge = n->edges[input];
  if (edge.node || !edge.leaf) return nullptr;
  Tensor& grad = edge.leaf->grad;
  // The engine would otherwise add the gradient element by element into this very buffer
  // (accumulate_into_leaf), so writing into it is the same update, made by the product.
  if (!grad.defined() || grad.dtype() != edge.dtype || grad.shape() != n->input_shape(input) ||
      !grad.is_contiguous())
    return nullptr;
  return &grad;
}

bool sink_is_apart(const Tensor& sink, std::initializer_list<const Tensor*> operands) {
  for (const Tensor* t : operands)
    if (t->defined() && t->impl()->storage == sink.impl()->storage) return false;
  return true;
}

Tensor accumulated_into_sink(size_t input) {
  SinkScope::current->accumulated_ |= uint64_t{1} << input;
  return Tensor();
}

}  // namespace tg::detail
