// The backward engine: walks the tape from an output back to the leaves, applying each
// record's backward once, in decreasing sequence number (tape order reversed is topological).
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <functional>
#include <span>
#include <unordered_map>

#include "grad_sink.hpp"
#include "hooks.hpp"
#include "kernels.hpp"
#include "node.hpp"
#include "record.hpp"
#include "tapegrad/autograd/backward.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg {
namespace {

using detail::Edge;
using detail::Node;
using detail::TensorImpl;

// Where tg::grad collects gradients instead of accumulating them into .grad().
struct Capture {
  std::unordered_map<const TensorImpl*, size_t> leaf_slot;  // input leaves
  std::unordered_map<const Node*, size_t> node_slot;        // inputs computed by ops
  std::vector<Tensor> gradients;
};

Tensor accumulate(const Tensor& sum, const Tensor& term) {
  return sum.defined() ? add(sum, term) : term;
}

// Adds `term` into `sum`, taking it over when `sum` is still empty (the usual case: most
// records feed one other record) without touching the reference counts.
void accumulate_into(Tensor& sum, Tensor&& term) {
  if (sum.defined())
    sum = add(sum, term);
  else
    sum = std::move(term);
}

// A gradient turned back into its input's shape (undoing broadcasting) and dtype. A shape that
// no broadcasting explains is the backward's bug (a custom Function's, typically): say whose.
// Out of line: the walk calls it only for a gradient whose shape or dtype differs.
[[gnu::noinline]] Tensor to_input_form(Tensor g, const Edge& edge, const Node& n, size_t input) {
  const Shape& shape = n.input_shape(input);
  if (g.shape() != shape) {
    bool reducible = g.dim() >= static_cast<int64_t>(shape.size());
    for (size_t i = 0; reducible && i < shape.size(); ++i) {
      const int64_t have = g.shape()[g.shape().size() - shape.size() + i];
      reducible = have == shape[i] || shape[i] == 1;
    }
    if (!reducible)
      throw Error(fmt::format(
          "backward of '{}' (record #{}) returned a gradient of shape {} for input {}, which has "
          "shape {}: a gradient must have its input's shape (or broadcast to it)",
          n.name, n.sequence_nr, format_shape(g.shape()), input, format_shape(shape)));
    g = sum_to(g, shape);
  }
  if (g.dtype() != edge.dtype) g = g.to(edge.dtype);
  return g;
}

// Adds g into a leaf's .grad(). Without create_graph the first gradient is stolen when nobody
// else holds it (else copied) and later ones are added in place, as PyTorch's AccumulateGrad.
void accumulate_into_leaf(TensorImpl& leaf, const Tensor& g, bool create_graph) {
  if (create_graph) {
    leaf.grad = accumulate(leaf.grad, g).contiguous();
    return;
  }
  if (!leaf.grad.defined()) {
    const bool sole_owner = g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 &&
                            g.is_leaf() && g.is_contiguous();  // a leaf's grad is always contiguous
    leaf.grad = sole_owner ? g : g.detach().clone();
    return;
  }
  Tensor& sum = leaf.grad;
  Tensor holder;
  const Tensor& dense = detail::dense_values(g, holder);
  detail::dispatch(sum.dtype(), [&]<class T>() {
    T* s = detail::data_of<T>(sum);
    const T* x = detail::data_of<T>(dense);
    for (int64_t i = 0, end = sum.numel(); i < end; ++i) s[i] += x[i];
  });
}

// Tensor::retain_grad: the output's gradient is summed into its grad() as a leaf's would be; a
// copy, as the engine's own tensor goes on to be summed into others.
void retain(const std::weak_ptr<TensorImpl>& output, const Tensor& g, bool create_graph) {
  const std::shared_ptr<TensorImpl> impl = output.lock();
  if (!impl) return;  // nobody holds the tensor any more
  if (impl->grad.defined())
    impl->grad = add(impl->grad, g);
  else
    impl->grad = create_graph ? g : g.detach().clone();
}

// In anomaly mode: the first non-finite gradient names the record whose backward made it.
void check_backward_anomaly(const Node& n, const Gradients& grads) {
  for (size_t k = 0; k < grads.size(); ++k) {
    if (!grads[k].defined() || !is_floating(grads[k].dtype())) continue;
    for (double v : grads[k].to_vector())
      if (!std::isfinite(v))
        throw Error(fmt::format(
            "anomaly: backward of '{}' (record #{}, output {}) produced {} in the gradient of "
            "input {}{}",
            n.name, n.sequence_nr, format_shape(n.shape), std::isnan(v) ? "NaN" : "Inf", k,
            n.edges[k].node ? fmt::format(" (computed by '{}', record #{})", n.edges[k].node->name,
                                          n.edges[k].node->sequence_nr)
                            : ""));
  }
}

}  // namespace

namespace detail {

std::vector<Node*> reachable_records(const std::vector<Tensor>& roots, bool require_alive) {
  std::vector<Node*> nodes;
  nodes.reserve(64);
  reachable_records_into(nodes, roots, require_alive);
  return nodes;
}

// From this many records on, the walk orders them by placing each at its number's slot.
constexpr size_t kLinearOrderFrom = 256;

void reachable_records_into(std::vector<Node*>& nodes, std::span<const Tensor> roots,
                            bool require_alive) {
  nodes.clear();
  // Kept per thread so that a walk allocates nothing but its result; nothing the walk calls can
  // start another walk on this thread.
  thread_local std::vector<Node*> stack;
  stack.clear();
  // Each record's number, read once here: a recurrent network's graph outgrows the caches, and
  // ordering by numbers read again from the records would miss the cache on every one.
  thread_local std::vector<uint64_t> numbers;
  numbers.clear();
  // One counter for all threads: a graph built with retain_graph may be walked again from
  // another thread, whose own count could equal the marks this thread's walk left behind.
  static std::atomic<uint64_t> walks{0};
  const uint64_t walk = walks.fetch_add(1, std::memory_order_relaxed) + 1;
  auto first_visit = [walk](Node* n) {
    if (n == nullptr || n->engine.visited_in_walk == walk) return false;
    n->engine.visited_in_walk = walk;
    return true;
  };
  for (const Tensor& root : roots)
    if (Node* n = root.defined() ? root.impl()->grad_fn.get() : nullptr; first_visit(n))
      stack.push_back(n);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (require_alive && n->released)
      throw Error(fmt::format(
          "backward: the graph through '{}' (output {}) was already freed by an earlier "
          "backward(); pass {{.retain_graph = true}} to the first backward to walk it twice",
          n->name, format_shape(n->shape)));
    nodes.push_back(n);
    numbers.push_back(n->sequence_nr);
    for (const Edge& edge : n->edges)
      if (Node* input = edge.node.get(); first_visit(input)) stack.push_back(input);
  }
  // A depth-first walk of a chain, or of any graph whose inputs were recorded in order, already
  // yields decreasing numbers: checking costs one pass.
  if (std::is_sorted(numbers.begin(), numbers.end(), std::greater<>())) return;
  // One graph's numbers are nearly consecutive, so each record of a large graph goes straight
  // to the slot its number names: linear, where a comparison sort pays n log n (a tenth of a
  // recurrent network's backward). Small graphs, numbers spread far apart, or repeated ones
  // (records made on several threads) take the comparison sort.
  if (nodes.size() >= kLinearOrderFrom) {
    const auto [oldest, newest] = std::minmax_element(numbers.begin(), numbers.end());
    const uint64_t top = *newest, span = top - *oldest;
    if (span < 4 * nodes.size()) {
      thread_local std::vector<Node*> slots;
      slots.assign(span + 1, nullptr);
      bool distinct = true;
      for (size_t i = 0; i < nodes.size(); ++i) {
        Node*& slot = slots[top - numbers[i]];
        distinct = distinct && slot == nullptr;
        slot = nodes[i];
      }
      if (distinct) {
        nodes.clear();
        for (Node* n : slots)
          if (n != nullptr) nodes.push_back(n);
        return;
      }
    }
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const Node* a, const Node* b) { return a->sequence_nr > b->sequence_nr; });
}

}  // namespace detail

namespace {

// The leaves with post-accumulate-grad hooks that this backward can reach: how many edges of
// the walk still lead to each, and whether a gradient reached it. When the count reaches zero
// the leaf's gradient is final and its hooks run.
class LeafReadiness {
 public:
  LeafReadiness(const std::vector<Node*>& nodes, bool enabled) {
    if (!enabled) return;
    for (const Node* n : nodes)
      for (const Edge& edge : n->edges)
        if (edge.leaf && edge.leaf->hooks) ++pending_[edge.leaf.get()].edges;
  }
  void delivered(TensorImpl& leaf) {
    if (auto it = pending_.find(&leaf); it != pending_.end()) it->second.received = true;
  }
  // A root that is itself a hooked leaf and that no record leads to is final at once.
  void root_delivered(const std::shared_ptr<TensorImpl>& leaf) {
    if (!leaf->hooks) return;
    auto [it, inserted] = pending_.try_emplace(leaf.get());
    it->second.received = true;
    if (it->second.edges == 0) fire(leaf);
  }
  // Called once per record of the walk, whether or not a gradient reached it.
  void record_done(const Node& n) {
    if (pending_.empty()) return;
    for (const Edge& edge : n.edges) {
      if (!edge.leaf || !edge.leaf->hooks) continue;
      auto it = pending_.find(edge.leaf.get());
      if (it == pending_.end() || --it->second.edges != 0) continue;
      if (it->second.received) fire(edge.leaf);
    }
  }

 private:
  struct Pending {
    int64_t edges = 0;
    bool received = false;
  };
  static void fire(const std::shared_ptr<TensorImpl>& leaf) {
    const Tensor handle(leaf);
    // A copy: a hook may remove itself or register others.
    const auto hooks = leaf->hooks->hooks;
    for (const auto& entry : hooks) entry.second(handle);
  }
  std::unordered_map<const TensorImpl*, Pending> pending_;
};

// The record lists of this thread's walks, kept for the next walk so that a backward in the
// steady state allocates nothing; a stack, as a backward may run inside another's (a hook or a
// custom Function calling backward).
class NodeListLease {
 public:
  NodeListLease() {
    if (!spare().empty()) {
      list_ = std::move(spare().back());
      spare().pop_back();
    }
  }
  ~NodeListLease() {
    list_.clear();
    spare().push_back(std::move(list_));
  }
  NodeListLease(const NodeListLease&) = delete;
  NodeListLease& operator=(const NodeListLease&) = delete;
  std::vector<Node*>& list() { return list_; }

 private:
  static std::vector<std::vector<Node*>>& spare() {
    thread_local std::vector<std::vector<Node*>> lists;
    return lists;
  }
  std::vector<Node*> list_;
};

void walk_backward(std::span<const Tensor> roots, std::span<const Tensor> root_grads,
                   bool retain_graph, bool create_graph, Capture* capture) {
  NodeListLease lease;
  std::vector<Node*>& nodes = lease.list();
  detail::reachable_records_into(nodes, roots, /*require_alive=*/true);
  LeafReadiness readiness(nodes, capture == nullptr && detail::LeafHooks::any_alive());
  // An early exit must leave no half-summed gradients behind in the records. A walk that ends
  // normally has taken every one already, and one more pass over a large graph costs a cache
  // miss per record.
  struct ClearPending {
    std::vector<Node*>& nodes;
    bool walk_ended = false;
    ~ClearPending() {
      if (walk_ended) return;
      for (Node* n : nodes) n->engine.pending_grad = Tensor();
    }
  } clear_pending{nodes};

  NoGradGuard no_grad;
  set_grad_enabled(create_graph);
  struct BackwardScope {
    bool previous = detail::in_backward();
    const Node* previous_record = detail::running_record();
    BackwardScope() { detail::set_in_backward(true); }
    ~BackwardScope() {
      detail::set_in_backward(previous);
      detail::set_running_record(previous_record);
    }
  } backward_scope;

  auto deliver_to_leaf = [&](const std::shared_ptr<TensorImpl>& leaf, const Tensor& g) {
    if (capture == nullptr) {
      accumulate_into_leaf(*leaf, g, create_graph);
      readiness.delivered(*leaf);
    } else if (auto it = capture->leaf_slot.find(leaf.get()); it != capture->leaf_slot.end()) {
      capture->gradients[it->second] = accumulate(capture->gradients[it->second], g);
    }
  };

  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    if (Node* n = root.impl()->grad_fn.get())
      n->engine.pending_grad = accumulate(n->engine.pending_grad, root_grads[i]);
    else if (root.requires_grad())
      deliver_to_leaf(root.impl_ptr(), root_grads[i]);
  }
  if (capture == nullptr)
    for (const Tensor& root : roots)
      if (!root.impl()->grad_fn && root.requires_grad()) readiness.root_delivered(root.impl_ptr());

  // Products may add a leaf's gradient straight into its .grad() (GEMM with beta = 1) where the
  // engine would add it there itself; never where the gradient is captured, recorded or checked.
  detail::SinkScope sinks(capture == nullptr && !create_graph);
  for (Node* n : nodes) {
    if (!n->engine.pending_grad.defined()) {
      readiness.record_done(*n);
      continue;
    }
    // Backwards read their gradient's raw elements: a strided one (a broadcast view, as sum's
    // backward gives) reaches them as a contiguous copy, recorded under create_graph.
    const Tensor grad_output = detail::is_dense(n->engine.pending_grad)
                                   ? std::move(n->engine.pending_grad)
                                   : n->engine.pending_grad.contiguous();
    n->engine.pending_grad = Tensor();
    if (capture != nullptr)
      if (auto it = capture->node_slot.find(n); it != capture->node_slot.end())
        capture->gradients[it->second] = grad_output;
    if (autograd::is_inspecting_tape()) n->extras_for_write().seen.grad = grad_output.detach();
    if (n->extras && capture == nullptr)
      retain(n->extras->retained_output, grad_output, create_graph);
    detail::set_running_record(n);
    Gradients grads = n->apply(grad_output);
    detail::set_running_record(nullptr);
    for (uint64_t in_sink = sinks.take_accumulated(); in_sink != 0; in_sink &= in_sink - 1)
      readiness.delivered(*n->edges[static_cast<size_t>(std::countr_zero(in_sink))].leaf);
    if (grads.size() != n->edges.size())
      throw Error(fmt::format("backward of '{}' returned {} gradients for {} inputs", n->name,
                              grads.size(), n->edges.size()));
    if (autograd::is_anomaly_enabled()) check_backward_anomaly(*n, grads);
    for (size_t k = 0; k < grads.size(); ++k) {
      const Edge& edge = n->edges[k];
      if (!grads[k].defined() || (!edge.node && !edge.leaf)) continue;
      Tensor g = std::move(grads[k]);
      if (g.dtype() != edge.dtype || g.shape() != n->input_shape(k))
        g = to_input_form(std::move(g), edge, *n, k);
      if (edge.node)
        accumulate_into(edge.node->engine.pending_grad, std::move(g));
      else
        deliver_to_leaf(edge.leaf, g);
    }
    if (!retain_graph) {
      n->release_saved();
      n->released = true;
    }
    readiness.record_done(*n);
  }
  clear_pending.walk_ended = true;
}

// One backward with its own callback queue, run as the walk ends, normally or not.
void run_backward(std::span<const Tensor> roots, std::span<const Tensor> root_grads,
                  bool retain_graph, bool create_graph, Capture* capture) {
  detail::CallbackQueue callbacks;
  try {
    walk_backward(roots, root_grads, retain_graph, create_graph, capture);
  } catch (...) {
    callbacks.run(std::current_exception());
    throw;
  }
  callbacks.run(nullptr);
}

// The seed gradient of each root: the given one, or ones for a scalar. From the free lists, as
// every backward makes one.
Gradients seed_gradients(const char* op, std::span<const Tensor> outputs,
                         std::span<const Tensor> grad_outputs) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw Error(
        fmt::format("{}: {} grad_outputs for {} outputs", op, grad_outputs.size(), outputs.size()));
  Gradients seeds;
  seeds.reserve(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    if (!out.defined()) throw Error(fmt::format("{}: output {} is undefined", op, i));
    if (!out.requires_grad())
      throw Error(fmt::format(
          "{}: output {} (shape {}) does not require grad: no recorded op leads to it from a "
          "tensor that requires grad (none was an input, or it ran under NoGradGuard, or it is a "
          "gradient computed without create_graph=true)",
          op, i, format_shape(out.shape())));
    const Tensor given = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (given.defined()) {
      if (given.shape() != out.shape())
        throw Error(fmt::format("{}: grad_output of shape {} does not match output of shape {}", op,
                                format_shape(given.shape()), format_shape(out.shape())));
      seeds.push_back(given.dtype() == out.dtype() ? given : given.to(out.dtype()));
    } else {
      if (out.numel() != 1)
        throw Error(
            fmt::format("{}: output of shape {} is not a scalar; pass a grad_output of that shape",
                        op, format_shape(out.shape())));
      seeds.push_back(ones(out.shape(), {.dtype = out.dtype()}));
    }
  }
  return seeds;
}

}  // namespace

void Tensor::backward(const BackwardOptions& options) const { backward(Tensor(), options); }

void Tensor::backward(const Tensor& grad_output, const BackwardOptions& options) const {
  const std::span<const Tensor> roots(this, 1);
  const Gradients seeds = seed_gradients("backward", roots, {&grad_output, 1});
  run_backward(roots, seeds, options.retain_graph || options.create_graph, options.create_graph,
               nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph,
                         bool retain_graph) {
  const Gradients seeds = seed_gradients("grad", outputs, grad_outputs);
  Capture capture;
  capture.gradients.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    if (!input.defined() || !input.requires_grad())
      throw Error(fmt::format("grad: input {} does not require grad", i));
    if (Node* n = input.impl()->grad_fn.get())
      capture.node_slot[n] = i;
    else
      capture.leaf_slot[input.impl()] = i;
  }
  run_backward(outputs, seeds, retain_graph || create_graph, create_graph, &capture);
  return std::move(capture.gradients);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, const GradOptions& options) {
  std::vector<Tensor> result =
      grad(outputs, inputs, grad_outputs, options.create_graph, options.retain_graph);
  if (!options.allow_unused)
    for (size_t i = 0; i < result.size(); ++i)
      if (!result[i].defined())
        throw Error(fmt::format(
            "grad: input {} ({} {}) is not used in the graph of the outputs, so it has no "
            "gradient; pass GradOptions{{.allow_unused = true}} to get an undefined tensor for it",
            i, dtype_name(inputs[i].dtype()), format_shape(inputs[i].shape())));
  return result;
}

}  // namespace tg
