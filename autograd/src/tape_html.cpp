// to_html: the tape as one self-contained web page a learner steps through, forward then
// backward; this file lays out the graph and gathers format_tape's numbers as the page's data.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "tape_graph.hpp"
#include "tape_html_page.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg::autograd {
namespace {

using detail::Graph;
using tg::detail::Edge;
using tg::detail::Node;
using tg::detail::TensorImpl;

// Box geometry in SVG pixels: 12px monospace text, about 7.3px a character.
constexpr double kCharWidth = 7.3, kLineHeight = 16, kPadding = 10, kColumnGap = 70, kRowGap = 26;
constexpr int kLines = 5;  // head, op, shape, value, grad

// A tensor as the page shows it: the tape's values up to max_elements, else shape and summary.
std::string shown(const Tensor& t, int max_elements) {
  if (!t.defined()) return "";
  if (t.numel() <= max_elements) return detail::values(t);
  const std::vector<double> v = t.to_vector();
  const auto [low, high] = std::minmax_element(v.begin(), v.end());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return fmt::format("{} values: min {:.4g}, mean {:.4g}, max {:.4g}", t.numel(), *low, mean,
                     *high);
}

// One box of the drawing: a leaf or a record, its text and where it goes.
struct Box {
  std::string id, kind, head, op, shape, value, grad;
  int record = 0;     // 1-based record number, 0 for a leaf
  int grad_step = 0;  // the step from which its gradient shows
  int column = 0;
  double x = 0, y = 0, width = 0, height = 0;
  std::vector<size_t> inputs, consumers;  // other boxes, by index
};

double center(const Box& b) { return b.y + b.height / 2; }

// Columns by depth (a record one right of its deepest input, a leaf just left of its first
// consumer), then a few sweeps that move each box towards the boxes it is joined to.
void lay_out(std::vector<Box>& boxes) {
  if (boxes.empty()) return;  // an output with no history: nothing to draw
  for (Box& b : boxes)
    if (b.kind == "record")
      for (size_t in : b.inputs)
        if (boxes[in].kind == "record") b.column = std::max(b.column, boxes[in].column + 1);
  for (Box& b : boxes)
    if (b.kind == "record") b.column += 1;
  for (Box& b : boxes) {
    if (b.kind != "leaf") continue;
    int first = 1 << 30;
    for (size_t c : b.consumers) first = std::min(first, boxes[c].column);
    b.column = first == (1 << 30) ? 0 : first - 1;
  }
  const int columns =
      1 + std::max_element(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
            return a.column < b.column;
          })->column;
  std::vector<double> column_width(static_cast<size_t>(columns), 0);
  for (Box& b : boxes) {
    size_t longest = 0;
    for (const std::string* line : {&b.head, &b.op, &b.shape, &b.value, &b.grad})
      longest = std::max(longest, line->size() + 6);  // "value " / "grad " prefixes
    b.width = std::max(120.0, static_cast<double>(longest) * kCharWidth + 2 * kPadding);
    b.height = kLines * kLineHeight + kPadding;
    double& w = column_width[static_cast<size_t>(b.column)];
    w = std::max(w, b.width);
  }
  std::vector<double> column_x(static_cast<size_t>(columns), 20);
  for (size_t c = 1; c < column_x.size(); ++c)
    column_x[c] = column_x[c - 1] + column_width[c - 1] + kColumnGap;
  std::vector<std::vector<size_t>> by_column(static_cast<size_t>(columns));
  for (size_t i = 0; i < boxes.size(); ++i) {
    Box& b = boxes[i];
    b.x = column_x[static_cast<size_t>(b.column)];
    std::vector<size_t>& column = by_column[static_cast<size_t>(b.column)];
    b.y = 20 + static_cast<double>(column.size()) * (b.height + kRowGap);
    column.push_back(i);
  }
  for (int sweep = 0; sweep < 4; ++sweep)
    for (std::vector<size_t>& column : by_column) {
      std::map<size_t, double> wanted;
      for (size_t i : column) {
        const Box& b = boxes[i];
        const std::vector<size_t>& joined = b.kind == "record" ? b.inputs : b.consumers;
        double sum = 0;
        for (size_t j : joined) sum += center(boxes[j]);
        wanted[i] = joined.empty() ? center(b) : sum / static_cast<double>(joined.size());
      }
      std::stable_sort(column.begin(), column.end(),
                       [&](size_t a, size_t b) { return wanted[a] < wanted[b]; });
      double bottom = 20 - kRowGap;
      for (size_t i : column) {
        Box& b = boxes[i];
        b.y = std::max(wanted[i] - b.height / 2, bottom + kRowGap);
        bottom = b.y + b.height;
      }
    }
  double top = 1e300;
  for (const Box& b : boxes) top = std::min(top, b.y);
  for (Box& b : boxes) b.y += 20 - top;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

void to_html(const Tensor& output, const std::string& path, const HtmlOptions& options) {
  if (!output.defined()) throw Error("to_html: the output tensor is undefined");
  const Graph graph = detail::walk(output);
  const int records = static_cast<int>(graph.records.size());
  const int max_elements = std::max(1, options.max_elements);

  // Boxes: leaves first (in order of first use), then the records in tape order.
  std::vector<Box> boxes;
  for (size_t i = 0; i < graph.leaves.size(); ++i) {
    const Tensor leaf(graph.leaves[i]);
    Box b;
    b.id = fmt::format("l{}", i);
    b.kind = "leaf";
    b.head = detail::leaf_label(graph, leaf.impl());
    b.op = leaf.requires_grad() ? "leaf, requires grad" : "leaf";
    b.shape = fmt::format("{} {}", format_shape(leaf.shape()), dtype_name(leaf.dtype()));
    b.value = shown(leaf, max_elements);
    b.grad = shown(leaf.impl()->grad, max_elements);
    boxes.push_back(std::move(b));
  }
  const size_t first_record = boxes.size();
  for (int r = 1; r <= records; ++r) {
    const Node& n = *graph.records[static_cast<size_t>(r - 1)];
    Box b;
    b.id = fmt::format("r{}", r);
    b.kind = "record";
    b.record = r;
    b.head = n.output_name() ? fmt::format("#{} {}", r, *n.output_name()) : fmt::format("#{}", r);
    b.op = detail::call(graph, n);
    b.shape = fmt::format("{} {}", format_shape(n.shape), dtype_name(n.dtype));
    b.value = shown(n.seen().value, max_elements);
    b.grad = shown(n.seen().grad, max_elements);
    // Backward runs the records newest first: record r at step records + (records − r + 1).
    b.grad_step = 2 * records + 1 - r;
    boxes.push_back(std::move(b));
  }
  nlohmann::json edges = nlohmann::json::array();
  for (int r = 1; r <= records; ++r) {
    const Node& n = *graph.records[static_cast<size_t>(r - 1)];
    const size_t to = first_record + static_cast<size_t>(r - 1);
    for (size_t k = 0; k < n.edges.size(); ++k) {
      const Edge& e = n.edges[k];
      if (!e.node && !e.leaf) continue;  // a constant: shown in the call
      const size_t from = e.node ? first_record + graph.record_number.at(e.node.get()) - 1
                                 : graph.leaf_number.at(e.leaf.get());
      boxes[to].inputs.push_back(from);
      boxes[from].consumers.push_back(to);
      edges.push_back({{"from", boxes[from].id}, {"to", boxes[to].id}, {"input", k}});
    }
  }
  // A leaf's gradient is final once its oldest consumer, the last to run backward, has run.
  for (size_t i = 0; i < first_record; ++i) {
    int step = records + 1;
    for (size_t c : boxes[i].consumers) step = std::max(step, boxes[c].grad_step);
    boxes[i].grad_step = step;
  }
  lay_out(boxes);

  nlohmann::json nodes = nlohmann::json::array();
  double width = 0, height = 0;
  for (const Box& b : boxes) {
    nodes.push_back({{"id", b.id},
                     {"kind", b.kind},
                     {"record", b.record},
                     {"head", b.head},
                     {"op", b.op},
                     {"shape", b.shape},
                     {"value", b.value},
                     {"grad", b.grad},
                     {"grad_step", b.grad_step},
                     {"x", b.x},
                     {"y", b.y},
                     {"w", b.width},
                     {"h", b.height}});
    width = std::max(width, b.x + b.width + 20);
    height = std::max(height, b.y + b.height + 20);
  }
  const detail::ShowTensor show = [max_elements](const Tensor& t) {
    return shown(t, max_elements);
  };
  nlohmann::json steps = nlohmann::json::array();
  for (int r = 1; r <= records; ++r) {
    Node& n = *graph.records[static_cast<size_t>(r - 1)];
    nlohmann::json flows = nlohmann::json::array();
    for (const detail::InputFlow& flow : detail::input_flows(graph, n)) {
      const Edge& e = n.edges[flow.input];
      const size_t from = e.node ? first_record + graph.record_number.at(e.node.get()) - 1
                                 : graph.leaf_number.at(e.leaf.get());
      flows.push_back({{"to", boxes[from].id},
                       {"input", flow.input},
                       {"text", detail::flow_text(n, flow, show)},
                       {"passes", shown(flow.passed, max_elements)}});
    }
    steps.push_back({{"id", fmt::format("r{}", r)},
                     {"forward_line",
                      detail::record_line(graph, n, {.values = true, .gradients = false}, show)},
                     {"backward_line",
                      detail::record_line(graph, n, {.values = true, .gradients = true}, show)},
                     {"arriving", shown(n.seen().grad, max_elements)},
                     {"flows", std::move(flows)}});
  }
  const nlohmann::json data = {{"title", options.title}, {"width", width}, {"height", height},
                               {"nodes", nodes},         {"edges", edges}, {"records", steps}};
  // The JSON sits inside <script>: "</" would end it early, so it is written "<\/".
  std::string json = data.dump();
  for (size_t at = json.find("</"); at != std::string::npos; at = json.find("</", at + 3))
    json.replace(at, 2, "<\\/");

  // The template's title marks all come before its one data mark.
  const std::string_view page_template = detail::kTapeHtmlPage;
  const size_t data_at = page_template.find("@DATA@");
  std::string page(page_template.substr(0, data_at));
  const std::string title = html_escape(options.title);
  for (size_t at = page.find("@TITLE@"); at != std::string::npos;
       at = page.find("@TITLE@", at + title.size()))
    page.replace(at, 7, title);
  page += json;
  page += page_template.substr(data_at + 6);

  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(fmt::format("to_html: cannot open '{}' for writing", path));
  out << page;
  if (!out) throw Error(fmt::format("to_html: writing '{}' failed", path));
}

}  // namespace tg::autograd
