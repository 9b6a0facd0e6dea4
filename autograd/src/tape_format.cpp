// Seeing the tape: format_tape and to_dot, both drawn from the engine's walk of the graph.
#include <fmt/format.h>

#include <unordered_map>

#include "tape_graph.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg::autograd {
namespace detail {

using tg::detail::Edge;
using tg::detail::Node;
using tg::detail::TensorImpl;

Graph walk(const Tensor& output) {
  Graph graph;
  // The engine's walk, newest first; printing reads it oldest first. A graph freed by backward
  // still prints: only the saved tensors are gone, the records and edges remain.
  const std::vector<Node*> newest_first = tg::detail::reachable_records({output}, false);
  graph.records.assign(newest_first.rbegin(), newest_first.rend());
  for (size_t i = 0; i < graph.records.size(); ++i) {
    graph.record_number[graph.records[i]] = i + 1;
    for (const Edge& e : graph.records[i]->edges)
      if (e.leaf && !graph.leaf_number.count(e.leaf.get())) {
        graph.leaf_number[e.leaf.get()] = graph.leaves.size();
        graph.leaves.push_back(e.leaf);
      }
  }
  return graph;
}

namespace {

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

}  // namespace

std::string values(const Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string text;
  int64_t position = 0;
  append_values(text, t.to_vector(), t.shape(), 0, position, t.dtype());
  return text;
}

std::string number(double value) { return fmt::format("{:g}", value); }

std::string leaf_label(const Graph& graph, const TensorImpl* leaf) {
  return leaf->name ? "leaf " + *leaf->name : fmt::format("leaf {}", graph.leaf_number.at(leaf));
}

std::string input_name(const Graph& graph, const Node& n, size_t k) {
  const Edge& e = n.edges[k];
  if (e.node) return fmt::format("#{}", graph.record_number.at(e.node.get()));
  if (e.leaf) return leaf_label(graph, e.leaf.get());
  return n.literals.is_constant(k) ? number(n.literals.constants[k]) : "const";
}

// "pow(leaf a, 3)": the op with its inputs, constants and scalar arguments.
std::string call(const Graph& graph, const Node& n) {
  std::string inputs;
  for (size_t k = 0; k < n.edges.size(); ++k)
    inputs += (inputs.empty() ? "" : ", ") + input_name(graph, n, k);
  for (uint8_t i = 0; i < n.literals.argument_count; ++i)
    inputs += (inputs.empty() ? "" : ", ") + number(n.literals.arguments[i]);
  return fmt::format("{}({})", n.name, inputs);
}

bool has_constants(const Node& n) {
  return n.literals.argument_count > 0 || n.literals.constant_mask != 0;
}

std::vector<InputFlow> input_flows(const Graph& graph, Node& n) {
  std::vector<InputFlow> flows;
  if (!n.seen().grad.defined() || n.released) return flows;
  NoGradGuard no_grad;
  Gradients sent = n.apply(n.seen().grad);
  const bool scalar_output = n.seen().grad.numel() == 1;
  Gradients local;
  if (scalar_output) local = n.apply(ones(n.shape, {.dtype = n.dtype}));
  for (size_t k = 0; k < n.edges.size() && k < sent.size(); ++k) {
    const Edge& e = n.edges[k];
    if ((!e.node && !e.leaf) || !sent[k].defined()) continue;
    InputFlow flow{
        k, input_name(graph, n, k), Tensor(),
        sent[k].shape() == n.input_shape(k) ? sent[k] : sum_to(sent[k], n.input_shape(k))};
    if (scalar_output && flow.passed.numel() == 1 && local[k].defined())
      flow.local = local[k].numel() == 1 ? local[k] : local[k].sum();
    flows.push_back(std::move(flow));
  }
  return flows;
}

std::string flow_text(const Node& n, const InputFlow& flow, const ShowTensor& show) {
  if (flow.local.defined())
    return fmt::format("to {}: local derivative {}, passes {} · {} = {}", flow.name,
                       show(flow.local), show(n.seen().grad), show(flow.local), show(flow.passed));
  return fmt::format("to {}: passes {}", flow.name, show(flow.passed));
}

std::string record_line(const Graph& graph, const Node& n, const TapeFormatOptions& options,
                        const ShowTensor& show) {
  const std::string name = n.output_name() ? *n.output_name() + " = " : "";
  std::string text = fmt::format("#{}  {}{} -> {} {}", graph.record_number.at(&n), name,
                                 call(graph, n), format_shape(n.shape), dtype_name(n.dtype));
  if (options.values && n.seen().value.defined())
    text += fmt::format("  value {}", show(n.seen().value));
  if (options.gradients && n.seen().grad.defined())
    text += fmt::format("  grad {}", show(n.seen().grad));
  return text;
}

}  // namespace detail

namespace {

using detail::call;
using detail::Graph;
using detail::has_constants;
using detail::leaf_label;
using detail::values;
using tg::detail::Edge;
using tg::detail::Node;
using tg::detail::TensorImpl;

// Under a record after backward: per input, the local derivative and what the record passed on.
std::string local_derivative_lines(const Graph& graph, Node& n) {
  std::string text;
  for (const detail::InputFlow& flow : detail::input_flows(graph, n))
    text += "      " + detail::flow_text(n, flow) + "\n";
  return text;
}

// Graphviz label text: quotes and backslashes escaped, and in record labels the field syntax.
std::string escape(const std::string& text, bool record_label) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' ||
        (record_label && (c == '{' || c == '}' || c == '|' || c == '<' || c == '>')))
      out += '\\';
    out += c;
  }
  return out;
}

// micrograd prints data and grad with four decimals; tensors keep format_tape's form.
std::string micrograd_number(const Tensor& t) {
  return t.numel() == 1 ? fmt::format("{:.4f}", t.item()) : values(t);
}

std::string micrograd_dot(const Graph& graph, const DotOptions& options) {
  std::string text = "digraph tape {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n";
  auto value_node = [&](const std::string& id, const std::string& name, const std::string& data,
                        const Tensor& grad) {
    std::string label = escape(name, true) + " | data " + escape(data, true);
    if (options.gradients && grad.defined())
      label += " | grad " + escape(micrograd_number(grad), true);
    text += fmt::format("  {} [shape=record, label=\"{{ {} }}\"];\n", id, label);
  };
  for (size_t i = 0; i < graph.leaves.size(); ++i) {
    const Tensor leaf(graph.leaves[i]);
    value_node(fmt::format("leaf{}", i),
               leaf.impl()->name ? *leaf.impl()->name : fmt::format("leaf {}", i),
               micrograd_number(leaf), leaf.impl()->grad);
  }
  for (size_t i = 0; i < graph.records.size(); ++i) {
    const Node& n = *graph.records[i];
    const std::string name = n.output_name() ? *n.output_name() : fmt::format("#{}", i + 1);
    const std::string data = options.values && n.seen().value.defined()
                                 ? micrograd_number(n.seen().value)
                                 : fmt::format("{} {}", format_shape(n.shape), dtype_name(n.dtype));
    value_node(fmt::format("r{}", i + 1), name, data, n.seen().grad);
    const std::string op = has_constants(n) ? call(graph, n) : n.name;
    text += fmt::format("  r{}_op [shape=ellipse, label=\"{}\"];\n", i + 1, escape(op, false));
    text += fmt::format("  r{0}_op -> r{0};\n", i + 1);
    for (const Edge& e : n.edges) {
      if (e.node)
        text += fmt::format("  r{} -> r{}_op;\n", graph.record_number.at(e.node.get()), i + 1);
      if (e.leaf)
        text += fmt::format("  leaf{} -> r{}_op;\n", graph.leaf_number.at(e.leaf.get()), i + 1);
    }
  }
  return text + "}\n";
}

std::string tape_dot(const Graph& graph, const DotOptions& options) {
  std::string text = "digraph tape {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n";
  for (size_t i = 0; i < graph.leaves.size(); ++i) {
    const TensorImpl* leaf = graph.leaves[i].get();
    std::string label = fmt::format("{}\\n{} {}", escape(leaf_label(graph, leaf), false),
                                    format_shape(leaf->shape), dtype_name(leaf->dtype));
    if (options.gradients && leaf->grad.defined())
      label += fmt::format("\\ngrad {}", values(leaf->grad));
    text += fmt::format("  leaf{} [shape=ellipse, label=\"{}\"];\n", i, label);
  }
  for (size_t i = 0; i < graph.records.size(); ++i) {
    const Node& n = *graph.records[i];
    const std::string name = n.output_name() ? *n.output_name() + " = " : "";
    const std::string op = has_constants(n) ? call(graph, n) : n.name;
    std::string label = fmt::format("#{} {}\\n{} {}", i + 1, escape(name + op, false),
                                    format_shape(n.shape), dtype_name(n.dtype));
    if (options.values && n.seen().value.defined())
      label += fmt::format("\\nvalue {}", values(n.seen().value));
    if (options.gradients && n.seen().grad.defined())
      label += fmt::format("\\ngrad {}", values(n.seen().grad));
    text += fmt::format("  r{} [shape=box, label=\"{}\"];\n", i + 1, label);
    for (const Edge& e : n.edges) {
      if (e.node)
        text += fmt::format("  r{} -> r{};\n", graph.record_number.at(e.node.get()), i + 1);
      if (e.leaf)
        text += fmt::format("  leaf{} -> r{};\n", graph.leaf_number.at(e.leaf.get()), i + 1);
    }
  }
  return text + "}\n";
}

}  // namespace

std::string format_tape(const Tensor& output, const TapeFormatOptions& options) {
  const Graph graph = detail::walk(output);
  std::string text;
  for (size_t i = 0; i < graph.leaves.size(); ++i) {
    const TensorImpl* leaf = graph.leaves[i].get();
    text += fmt::format("{}  {} {}", leaf_label(graph, leaf), format_shape(leaf->shape),
                        dtype_name(leaf->dtype));
    if (options.values) text += fmt::format("  value {}", values(Tensor(graph.leaves[i])));
    if (options.gradients && leaf->grad.defined())
      text += fmt::format("  grad {}", values(leaf->grad));
    text += '\n';
  }
  for (Node* n : graph.records) {
    text += detail::record_line(graph, *n, options) + '\n';
    if (options.local_derivatives) text += local_derivative_lines(graph, *n);
  }
  return text;
}

std::string to_dot(const Tensor& output, const DotOptions& options) {
  const Graph graph = detail::walk(output);
  return options.style == DotStyle::micrograd ? micrograd_dot(graph, options)
                                              : tape_dot(graph, options);
}

}  // namespace tg::autograd
