// Node: one record on the tape, holding its inputs' edges and the backward it will run.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"
#include "tensor_impl.hpp"

namespace tg::detail {

/// Where a gradient flowing back into one input goes.
struct Edge {
  std::shared_ptr<Node> node;        // the record that produced the input, or
  std::shared_ptr<TensorImpl> leaf;  // the leaf to accumulate into; both null: no gradient
  Shape shape;                       // the input's shape and dtype, to reduce gradients back
  DType dtype = DType::f32;
};

struct Node {
  const char* name = "";
  uint64_t sequence_nr = 0;  // the record's place on the tape
  std::vector<Edge> edges;   // one per input of the op
  Shape shape;               // the output's shape and dtype
  DType dtype = DType::f32;
  bool released = false;  // set when backward freed what the record saved
  Tensor value_seen;      // under a TapeInspectionGuard: the output's value and
  Tensor grad_seen;       // the gradient that reached it in backward

  Tensor pending_grad;           // the engine's running sum of the gradient of the output
  uint64_t visited_in_walk = 0;  // the engine's mark: the walk that last reached this record

  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual ~Node();
  /// Turns the gradient of the output into one gradient per input.
  virtual Gradients apply(const Tensor& grad_output) = 0;
  /// Frees the saved tensors (the backward closure).
  virtual void release_saved() = 0;
};

/// A record whose backward is a lambda holding exactly what it needs.
template <class Backward>
struct LambdaNode final : Node {
  explicit LambdaNode(Backward&& fn) : backward(std::move(fn)) {}
  Gradients apply(const Tensor& grad_output) override { return (*backward)(grad_output); }
  void release_saved() override { backward.reset(); }
  std::optional<Backward> backward;
};

/// Drops a reference to a node; the last reference of a long chain is freed iteratively, so
/// tearing down a graph of 10^6 records cannot overflow the stack.
void release_node(std::shared_ptr<Node>&& node);

/// The next sequence number on this thread's tape.
uint64_t next_sequence_nr();

}  // namespace tg::detail
