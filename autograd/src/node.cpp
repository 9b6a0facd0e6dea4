// Records on the tape: attaching them to outputs, numbering them, and freeing long chains.
#include "node.hpp"

#include <fmt/format.h>

#include <new>
#include <string>
#include <vector>

#include "kernels.hpp"
#include "record.hpp"

namespace tg::detail {
namespace {
thread_local uint64_t sequence_counter = 0;

// Nodes whose last reference was dropped while another teardown was running on this thread.
struct Graveyard {
  std::vector<std::shared_ptr<Node>> nodes;
  bool draining = false;
};
thread_local Graveyard graveyard;
}  // namespace

// A binary op's record with both inputs saved (mul, div), with the count block that
// allocate_shared puts before it, must fit the free lists' 512-byte class: the next class is
// 1 KiB, and a recurrent network's graph is mostly such records.
struct BinaryBackward {
  SavedTensor a, b;
  bool a_needs, b_needs;
  Gradients operator()(const Tensor& grad_output) const;
};
static_assert(sizeof(LambdaNode<BinaryBackward>) + 2 * sizeof(void*) <= 512);

uint64_t next_sequence_nr() { return ++sequence_counter; }

const std::optional<std::string>& Node::output_name() const {
  static const std::optional<std::string> none;
  return extras ? extras->output_name : none;
}

const Inspection& Node::seen() const {
  static const Inspection nothing;
  return extras ? extras->seen : nothing;
}

void ShapeDeleter::operator()(Shape* shape) const noexcept {
  shape->~Shape();
  free_small_block(shape, sizeof(Shape));
}

NodeExtras& Node::extras_for_write() {
  if (!extras) extras = std::make_unique<NodeExtras>();
  return *extras;
}

void note_scalar_arguments(const Tensor& out, std::initializer_list<double> values) {
  Node* node = out.defined() ? out.impl()->grad_fn.get() : nullptr;
  if (node == nullptr) return;
  Literals& literals = node->literals;
  literals.argument_count = 0;
  for (double value : values)
    if (literals.argument_count < literals.arguments.size())
      literals.arguments[literals.argument_count++] = value;
}

namespace {
// The one element of a constant input, read without item()'s checks.
double scalar_value(const Tensor& t) {
  return dispatch(t.dtype(), [&]<class T>() { return static_cast<double>(data_of<T>(t)[0]); });
}

// A record's number must exceed its inputs' records' numbers, since the engine runs records in
// decreasing number. Counters are per thread (no shared atomic on the hot path), so an input
// recorded on another thread may carry a larger number: this thread's tape then jumps past it.
uint64_t sequence_nr_after(const Edges& edges) {
  uint64_t latest_input = 0;
  for (const Edge& edge : edges)
    if (edge.node && edge.node->sequence_nr > latest_input) latest_input = edge.node->sequence_nr;
  if (latest_input >= sequence_counter) sequence_counter = latest_input;
  return next_sequence_nr();
}
}  // namespace

void release_node(std::shared_ptr<Node>&& node) {
  if (!node) return;
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  Graveyard& yard = graveyard;
  yard.nodes.push_back(std::move(node));
  if (yard.draining) return;  // the outer loop below will free it
  yard.draining = true;
  while (!yard.nodes.empty()) {
    std::shared_ptr<Node> last = std::move(yard.nodes.back());
    yard.nodes.pop_back();
    last.reset();  // its destructor may push its own inputs' nodes
  }
  yard.draining = false;
}

Node::~Node() {
  for (Edge& edge : edges) release_node(std::move(edge.node));
}

void attach(const char* name, Tensor& out, std::shared_ptr<Node> node, const Tensor* const* inputs,
            size_t count) {
  TensorImpl& result = *out.impl();
  node->name = name;
  node->shape = result.shape;
  node->dtype = result.dtype;
  node->edges.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const TensorImpl* input = inputs[i]->impl();
    Edge& edge = node->edges[i];
    if (input == nullptr) continue;
    if (!input->requires_grad && input->grad_fn == nullptr) {
      if (i < node->literals.constants.size() && input->numel == 1) {
        node->literals.constants[i] = scalar_value(*inputs[i]);
        node->literals.constant_mask =
            static_cast<uint8_t>(node->literals.constant_mask | (1U << i));
      }
      continue;
    }
    if (input->shape != result.shape)
      edge.own_shape.reset(new (allocate_small_block(sizeof(Shape))) Shape(input->shape));
    edge.dtype = input->dtype;
    if (input->grad_fn)
      edge.node = input->grad_fn;
    else
      edge.leaf = inputs[i]->impl_ptr();
  }
  node->sequence_nr = sequence_nr_after(node->edges);
  if (autograd::is_inspecting_tape())
    node->extras_for_write().seen.value = alias_with_shape(out, result.shape);
  result.grad_fn = std::move(node);
}

}  // namespace tg::detail

namespace tg::detail {
namespace {
thread_local const Node* running = nullptr;
}  // namespace

const Node* running_record() { return running; }
void set_running_record(const Node* node) { running = node; }

void throw_modified(const Tensor& saved, uint64_t saved_version, const char* owner) {
  const Node* node = running_record();
  const std::string who = owner != nullptr ? fmt::format("'{}'", owner)
                          : node != nullptr
                              ? fmt::format("'{}' (record #{})", node->name, node->sequence_nr)
                              : std::string("an op");
  throw Error(fmt::format(
      "backward of {}: one of the variables needed for gradient computation has been modified "
      "by an inplace operation: the {} tensor of shape {} it saved is now at version {}, but was "
      "at version {} when saved (an in-place write such as copy_, fill_, add_ or an optimizer "
      "step came between the forward and backward; write into a clone() instead, or run "
      "backward first)",
      who, dtype_name(saved.dtype()), format_shape(saved.shape()), saved.version(), saved_version));
}

}  // namespace tg::detail
