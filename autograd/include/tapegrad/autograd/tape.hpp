// Seeing the tape: printing the recorded ops and Graphviz export (anomaly mode: anomaly.hpp).
#pragma once

#include <string>

#include "tapegrad/autograd/anomaly.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::autograd {

/// What format_tape and to_dot show besides ops and shapes.
struct TapeFormatOptions {
  bool values = true;     ///< each record's output value (kept under a TapeInspectionGuard)
  bool gradients = true;  ///< the gradient that reached each record and leaf in backward
  /// After a backward with retain_graph: under each record, per input, the local derivative
  /// (scalar records) and the gradient the record passed on, "incoming · local".
  bool local_derivatives = false;
};

/// The records behind `output`, in tape order: index, name (Tensor::set_name), op, inputs with
/// their constants and exponents (`pow(leaf a, 3)`, `mul(#1, 0.5)`), output shape and dtype;
/// with a TapeInspectionGuard alive while recording and running backward, also every value and
/// every incoming gradient — the chain rule made visible.
///
///     tg::autograd::TapeInspectionGuard inspect;
///     auto loss = ...; loss.backward({.retain_graph = true});
///     std::cout << tg::autograd::format_tape(loss);
std::string format_tape(const Tensor& output, const TapeFormatOptions& options = {});

/// How to_dot draws the graph.
enum class DotStyle {
  tape,       ///< one box per record ("#2 add") and one ellipse per leaf, as format_tape
  micrograd,  ///< as in Karpathy's micrograd lecture: a `{ name | data | grad }` record per
              ///< value and a small node per op between its inputs and its result
};

/// to_dot's style and what its labels show.
struct DotOptions {
  DotStyle style = DotStyle::tape;
  bool values = true;     ///< output values (kept under a TapeInspectionGuard)
  bool gradients = true;  ///< gradients that reached records and leaves in backward
};

/// The same graph as Graphviz DOT (render with `dot -Tsvg graph.dot -o graph.svg`).
std::string to_dot(const Tensor& output, const DotOptions& options = {});

/// What to_html's page shows.
struct HtmlOptions {
  std::string title = "tapegrad graph";  ///< the page's title and heading
  int max_elements = 8;  ///< larger tensors show their shape and a summary instead of values
};

/// Writes one self-contained HTML file (inline SVG, CSS and script; nothing fetched) that draws
/// the graph of `output` and steps through it with buttons and the arrow keys: the forward pass
/// record by record with each value, then the backward pass with the gradient arriving at each
/// record, its local derivatives and the products passed to its inputs — format_tape's numbers
/// (record under a TapeInspectionGuard and run backward with retain_graph to see them all).
/// The URL's `#step=K` opens the page at step K. Throws tg::Error if `path` cannot be written.
void to_html(const Tensor& output, const std::string& path, const HtmlOptions& options = {});

/// True while a TapeInspectionGuard is alive on this thread.
bool is_inspecting_tape();

/// RAII: records made while one is alive keep their output values, and backward keeps the
/// gradient that reaches each record, for format_tape and to_dot. Costs memory; for learning.
struct TapeInspectionGuard {
  TapeInspectionGuard();
  ~TapeInspectionGuard();
  TapeInspectionGuard(const TapeInspectionGuard&) = delete;
  TapeInspectionGuard& operator=(const TapeInspectionGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tg::autograd
