// Node: one record on the tape, holding its inputs' edges and the backward it will run.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "small_blocks.hpp"
#include "tapegrad/autograd/tensor.hpp"
#include "tensor_impl.hpp"

namespace tg {
/// One tensor per input of an op's backward; an undefined one means "no gradient". From the
/// per-thread free lists: every backward step makes one.
using Gradients = std::vector<Tensor, detail::SmallBlockAllocator<Tensor>>;
}  // namespace tg

namespace tg::detail {

/// Frees a Shape into the per-thread free lists.
struct ShapeDeleter {
  void operator()(Shape* shape) const noexcept;
};

/// Where a gradient flowing back into one input goes.
struct Edge {
  std::shared_ptr<Node> node;        // the record that produced the input, or
  std::shared_ptr<TensorImpl> leaf;  // the leaf to accumulate into; both null: no gradient
  // The input's shape, kept only where it differs from the output's (broadcasting, products,
  // reductions), to reduce gradients back: most inputs have their output's shape, and a Shape
  // in every edge made a record a third larger. Node::input_shape reads it.
  std::unique_ptr<Shape, ShapeDeleter> own_shape;
  DType dtype = DType::f32;  // the input's dtype
};

/// The numbers format_tape shows in a record's call, kept as doubles and formatted only when the
/// tape is printed: one-element inputs that want no gradient (`x * 0.5`) and arguments that are
/// not tensors (pow's exponent, clamp's bounds). Kept on the record, not on Edge, so that an
/// op's edges stay within the allocator's fast size classes.
struct Literals {
  std::array<double, 3> constants{};  // input k's value, for k < 3 with bit k of constant_mask
  std::array<double, 2> arguments{};
  uint8_t constant_mask = 0;
  uint8_t argument_count = 0;

  bool is_constant(size_t input) const { return input < 3 && ((constant_mask >> input) & 1U); }
};

/// What the engine keeps on a record during one backward pass; empty between passes.
struct EngineScratch {
  Tensor pending_grad;           // the running sum of the gradient of the output
  uint64_t visited_in_walk = 0;  // the walk that last reached this record
};

/// What a TapeInspectionGuard keeps for format_tape and to_dot.
struct Inspection {
  Tensor value;  // the output's value when recorded
  Tensor grad;   // the gradient that reached the output in backward
};

/// What few records carry, kept out of line so that a record of a binary op with its two saved
/// inputs fits the free lists' 512-byte class (the next one is 1 KiB).
struct NodeExtras {
  std::optional<std::string> output_name;  // Tensor::set_name on the output
  // Tensor::retain_grad on the output: where backward stores its gradient. Weak, so the record
  // does not keep its own output alive.
  std::weak_ptr<TensorImpl> retained_output;
  Inspection seen;
};

/// A record's edges: up to two inside the record (every unary and binary op), more in a vector.
class Edges {
 public:
  void resize(size_t count) {
    if (count > inline_.size()) overflow_.resize(count);
    size_ = count;
  }
  size_t size() const { return size_; }
  Edge& operator[](size_t i) { return data()[i]; }
  const Edge& operator[](size_t i) const { return data()[i]; }
  Edge* begin() { return data(); }
  Edge* end() { return data() + size_; }
  const Edge* begin() const { return data(); }
  const Edge* end() const { return data() + size_; }

 private:
  Edge* data() { return overflow_.empty() ? inline_.data() : overflow_.data(); }
  const Edge* data() const { return overflow_.empty() ? inline_.data() : overflow_.data(); }
  std::array<Edge, 2> inline_;
  std::vector<Edge, SmallBlockAllocator<Edge>> overflow_;  // linear's three edges, say
  size_t size_ = 0;
};

struct Node {
  // The record itself.
  const char* name = "";
  uint64_t sequence_nr = 0;  // the record's place on the tape
  Edges edges;               // one per input of the op
  Shape shape;               // the output's shape and dtype
  DType dtype = DType::f32;
  Literals literals;
  bool released = false;  // set when backward freed what the record saved
  EngineScratch engine;
  std::unique_ptr<NodeExtras> extras;  // null until a name, retain_grad or inspection needs it

  /// The output's name and value and gradient as inspected (none when there are no extras).
  const std::optional<std::string>& output_name() const;
  const Inspection& seen() const;
  /// The extras, made on first use.
  NodeExtras& extras_for_write();
  /// The shape of input `k` (for an input that gets a gradient).
  const Shape& input_shape(size_t k) const {
    const Edge& edge = edges[k];
    return edge.own_shape ? *edge.own_shape : shape;
  }

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

/// Keeps `values` (at most two) as the scalar arguments of the record that produced `out`, for
/// format_tape; does nothing when `out` was not recorded.
void note_scalar_arguments(const Tensor& out, std::initializer_list<double> values);

/// Every record reachable from `roots`, newest first (the engine's order; reversed, tape order).
/// With `require_alive` a record freed by an earlier backward throws tg::Error.
std::vector<Node*> reachable_records(const std::vector<Tensor>& roots, bool require_alive);

/// The same into `nodes` (cleared first), which the engine reuses from one walk to the next.
void reachable_records_into(std::vector<Node*>& nodes, std::span<const Tensor> roots,
                            bool require_alive);

}  // namespace tg::detail
