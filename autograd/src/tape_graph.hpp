// The graph behind an output as format_tape, to_dot and to_html read it: its records and leaves
// in order, and the labels and numbers all three print.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "node.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg::autograd::detail {

/// The records behind an output in tape order, and its leaves in order of first use.
struct Graph {
  std::vector<tg::detail::Node*> records;
  std::unordered_map<const tg::detail::Node*, size_t> record_number;  // 1-based, in tape order
  std::vector<std::shared_ptr<tg::detail::TensorImpl>> leaves;
  std::unordered_map<const tg::detail::TensorImpl*, size_t> leaf_number;
};

/// The engine's walk from `output`, read oldest first.
Graph walk(const Tensor& output);

/// The tape's one-line form of a tensor's values ("[[1, 2], [3, 4]]", 6 significant digits).
std::string values(const Tensor& t);

/// "leaf a" for a named leaf, else "leaf 0" by order of first use.
std::string leaf_label(const Graph& graph, const tg::detail::TensorImpl* leaf);

/// How input k of a record prints: "#2", "leaf a", a constant's value, or "const".
std::string input_name(const Graph& graph, const tg::detail::Node& n, size_t k);

/// "pow(leaf a, 3)": the op with its inputs, constants and scalar arguments.
std::string call(const Graph& graph, const tg::detail::Node& n);

/// Whether a record has constant inputs or scalar arguments to show.
bool has_constants(const tg::detail::Node& n);

/// What one record passed to one input in backward.
struct InputFlow {
  size_t input;      ///< the input's position in the record's edges
  std::string name;  ///< as input_name prints it
  Tensor local;      ///< the local derivative, for a one-element output and input; else undefined
  Tensor passed;     ///< the gradient passed on, in the input's shape
};

/// Per input that gets a gradient: the local derivative and what the record passed on,
/// recomputed from the gradient that reached it (needs backward with retain_graph and a
/// TapeInspectionGuard); empty when those are missing.
std::vector<InputFlow> input_flows(const Graph& graph, tg::detail::Node& n);

/// How a tensor's numbers are written: values() by default, a summary for large ones in to_html.
using ShowTensor = std::function<std::string(const Tensor&)>;

/// "to #2: local derivative -2, passes 1 · -2 = -2", or "to #2: passes [..]".
std::string flow_text(const tg::detail::Node& n, const InputFlow& flow,
                      const ShowTensor& show = values);

/// format_tape's line for one record: "#3  L = mul(#2, leaf f) -> [] f64  value -8  grad 1".
std::string record_line(const Graph& graph, const tg::detail::Node& n,
                        const TapeFormatOptions& options, const ShowTensor& show = values);

}  // namespace tg::autograd::detail
