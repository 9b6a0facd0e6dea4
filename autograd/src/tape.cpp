// Seeing the tape: format_tape, to_dot, the inspection and anomaly switches.
#include "tapegrad/autograd/tape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>

#include "node.hpp"
#include "record.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::autograd {
namespace {

thread_local bool inspecting = false;
std::atomic<bool> anomaly_enabled{false};

using detail::Node;
using detail::TensorImpl;

// The graph behind an output: its records in tape order and its leaves in order of first use.
struct Graph {
  std::vector<const Node*> records;
  std::map<const Node*, size_t> record_number;  // 1-based, in tape order
  std::vector<std::shared_ptr<TensorImpl>> leaves;
  std::map<const TensorImpl*, size_t> leaf_number;
};

Graph walk(const Tensor& output) {
  Graph graph;
  std::vector<const Node*> stack;
  std::map<const Node*, bool> seen;
  if (output.defined() && output.impl()->grad_fn) stack.push_back(output.impl()->grad_fn.get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (seen[n]) continue;
    seen[n] = true;
    graph.records.push_back(n);
    for (const detail::Edge& e : n->edges)
      if (e.node) stack.push_back(e.node.get());
  }
  std::sort(graph.records.begin(), graph.records.end(),
            [](const Node* a, const Node* b) { return a->sequence_nr < b->sequence_nr; });
  for (size_t i = 0; i < graph.records.size(); ++i) {
    graph.record_number[graph.records[i]] = i + 1;
    for (const detail::Edge& e : graph.records[i]->edges)
      if (e.leaf && !graph.leaf_number.count(e.leaf.get())) {
        graph.leaf_number[e.leaf.get()] = graph.leaves.size();
        graph.leaves.push_back(e.leaf);
      }
  }
  return graph;
}

// The tape's compact form of values, one line whatever the size: "[[1, 2], [3, 4]]" with 6
// significant digits (to_string's PyTorch layout spans lines and pads columns).
void append_values(std::string& text, const std::vector<double>& values, const Shape& shape,
                   size_t dim, int64_t& position, DType dtype) {
  if (dim == shape.size()) {
    const double v = values[static_cast<size_t>(position++)];
    text +=
        dtype == DType::i64 ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{:.6g}", v);
    return;
  }
  text += '[';
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (i > 0) text += ", ";
    append_values(text, values, shape, dim + 1, position, dtype);
  }
  text += ']';
}

std::string values(const Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string text;
  int64_t position = 0;
  append_values(text, t.to_vector(), t.shape(), 0, position, t.dtype());
  return text;
}

std::string input_name(const Graph& graph, const detail::Edge& e) {
  if (e.node) return fmt::format("#{}", graph.record_number.at(e.node.get()));
  if (e.leaf) return fmt::format("leaf {}", graph.leaf_number.at(e.leaf.get()));
  return "const";
}

}  // namespace

bool is_inspecting_tape() { return inspecting; }
TapeInspectionGuard::TapeInspectionGuard() : previous_(inspecting) { inspecting = true; }
TapeInspectionGuard::~TapeInspectionGuard() { inspecting = previous_; }

void set_detect_anomaly(bool enabled) { anomaly_enabled = enabled; }
bool is_anomaly_enabled() { return anomaly_enabled; }

std::string format_tape(const Tensor& output, const TapeFormatOptions& options) {
  const Graph graph = walk(output);
  std::string text;
  for (size_t i = 0; i < graph.leaves.size(); ++i) {
    const TensorImpl* leaf = graph.leaves[i].get();
    text += fmt::format("leaf {}  {} {}", i, format_shape(leaf->shape), dtype_name(leaf->dtype));
    if (options.values) text += fmt::format("  value {}", values(Tensor(graph.leaves[i])));
    if (options.gradients && leaf->grad.defined())
      text += fmt::format("  grad {}", values(leaf->grad));
    text += '\n';
  }
  for (size_t i = 0; i < graph.records.size(); ++i) {
    const Node* n = graph.records[i];
    std::string inputs;
    for (const detail::Edge& e : n->edges)
      inputs += (inputs.empty() ? "" : ", ") + input_name(graph, e);
    text += fmt::format("#{}  {}({}) -> {} {}", i + 1, n->name, inputs, format_shape(n->shape),
                        dtype_name(n->dtype));
    if (options.values && n->value_seen.defined())
      text += fmt::format("  value {}", values(n->value_seen));
    if (options.gradients && n->grad_seen.defined())
      text += fmt::format("  grad {}", values(n->grad_seen));
    text += '\n';
  }
  return text;
}

std::string to_dot(const Tensor& output, const TapeFormatOptions& options) {
  const Graph graph = walk(output);
  std::string text = "digraph tape {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n";
  for (size_t i = 0; i < graph.leaves.size(); ++i) {
    const TensorImpl* leaf = graph.leaves[i].get();
    std::string label =
        fmt::format("leaf {}\\n{} {}", i, format_shape(leaf->shape), dtype_name(leaf->dtype));
    if (options.gradients && leaf->grad.defined())
      label += fmt::format("\\ngrad {}", values(leaf->grad));
    text += fmt::format("  leaf{} [shape=ellipse, label=\"{}\"];\n", i, label);
  }
  for (size_t i = 0; i < graph.records.size(); ++i) {
    const Node* n = graph.records[i];
    std::string label =
        fmt::format("#{} {}\\n{} {}", i + 1, n->name, format_shape(n->shape), dtype_name(n->dtype));
    if (options.values && n->value_seen.defined())
      label += fmt::format("\\nvalue {}", values(n->value_seen));
    if (options.gradients && n->grad_seen.defined())
      label += fmt::format("\\ngrad {}", values(n->grad_seen));
    text += fmt::format("  r{} [shape=box, label=\"{}\"];\n", i + 1, label);
    for (const detail::Edge& e : n->edges) {
      if (e.node)
        text += fmt::format("  r{} -> r{};\n", graph.record_number.at(e.node.get()), i + 1);
      if (e.leaf)
        text += fmt::format("  leaf{} -> r{};\n", graph.leaf_number.at(e.leaf.get()), i + 1);
    }
  }
  return text + "}\n";
}

}  // namespace tg::autograd

namespace tg::detail {

namespace {
thread_local bool backward_running = false;
}

bool in_backward() { return backward_running; }
void set_in_backward(bool running) { backward_running = running; }

void check_forward_anomaly(const char* name, const Tensor& out) {
  if (!autograd::is_anomaly_enabled() || backward_running || !is_floating(out.dtype())) return;
  for (double v : out.to_vector())
    if (!std::isfinite(v))
      throw Error(fmt::format("anomaly: forward of '{}' produced {} in its output of shape {}",
                              name, std::isnan(v) ? "NaN" : "Inf", format_shape(out.shape())));
}

}  // namespace tg::detail
