// Printing tensors in PyTorch's layout (torch/_tensor_str.py): one number format chosen for the
// whole tensor, rows wrapped at 80 columns, `...` for the middle of tensors over 1000 elements.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "kernels.hpp"
#include "node.hpp"

namespace tg {
namespace {

constexpr int kPrecision = 4;
constexpr int64_t kThreshold = 1000;  // more elements than this are summarised
constexpr int64_t kEdgeItems = 3;     // entries kept at each end of a summarised dim
constexpr size_t kLineWidth = 80;

// The row-major positions shown: every one, or the first and last kEdgeItems of each dim.
bool shown(int64_t index, int64_t size, bool summarize) {
  return !summarize || size <= 2 * kEdgeItems || index < kEdgeItems || index >= size - kEdgeItems;
}

void collect_shown(const std::vector<double>& values, const Shape& shape, size_t dim,
                   int64_t offset, bool summarize, std::vector<double>& out) {
  if (dim == shape.size()) {
    out.push_back(values[static_cast<size_t>(offset)]);
    return;
  }
  int64_t stride = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
  for (int64_t i = 0; i < shape[dim]; ++i)
    if (shown(i, shape[dim], summarize))
      collect_shown(values, shape, dim + 1, offset + i * stride, summarize, out);
}

// PyTorch's _Formatter: integers for i64; for floats, "1." when every value is integral, fixed
// with 4 decimals, or scientific when the magnitudes span more than 1000x or leave [1e-4, 1e8].
class Formatter {
 public:
  Formatter(const std::vector<double>& values, DType dtype) : floating_(is_floating(dtype)) {
    if (!floating_) {
      for (double v : values) width_ = std::max(width_, format_raw(v).size());
      return;
    }
    double smallest = INFINITY, largest = 0;
    bool any = false;
    for (double v : values) {
      if (!std::isfinite(v) || v == 0) continue;
      any = true;
      smallest = std::min(smallest, std::abs(v));
      largest = std::max(largest, std::abs(v));
      if (v != std::ceil(v)) integral_ = false;
    }
    if (!any) return;
    const bool wide = largest / smallest > 1000.0 || largest > 1.0e8;
    scientific_ = integral_ ? wide : wide || smallest < 1.0e-4;
    for (double v : values) {
      if (!std::isfinite(v) || v == 0) continue;
      width_ = std::max(width_, format_raw(v).size());
    }
  }

  size_t width() const { return width_; }

  std::string format(double v) const {
    std::string text = format_raw(v);
    return std::string(width_ > text.size() ? width_ - text.size() : 0, ' ') + text;
  }

 private:
  std::string format_raw(double v) const {
    if (!floating_) return fmt::format("{}", static_cast<int64_t>(v));
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (scientific_) return fmt::format("{:.{}e}", v, kPrecision);
    if (integral_) return fmt::format("{:.0f}.", v);
    return fmt::format("{:.{}f}", v, kPrecision);
  }

  bool floating_;
  bool integral_ = true;
  bool scientific_ = false;
  size_t width_ = 1;
};

std::string format_values(const std::vector<double>& values, const Shape& shape, size_t dim,
                          int64_t offset, size_t indent, bool summarize,
                          const Formatter& formatter) {
  if (shape.empty()) return formatter.format(values[static_cast<size_t>(offset)]);
  int64_t stride = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
  const int64_t size = shape[dim];
  const bool cut = summarize && size > 2 * kEdgeItems;
  std::vector<std::string> parts;
  for (int64_t i = 0; i < size; ++i) {
    if (cut && i == kEdgeItems) parts.push_back(dim + 1 == shape.size() ? " ..." : "...");
    if (!shown(i, size, summarize)) continue;
    parts.push_back(dim + 1 == shape.size()
                        ? formatter.format(values[static_cast<size_t>(offset + i)])
                        : format_values(values, shape, dim + 1, offset + i * stride, indent + 1,
                                        summarize, formatter));
  }
  std::string text = "[";
  if (dim + 1 == shape.size()) {
    // A row: as many entries per line as fit in 80 columns after the indent.
    const size_t element = formatter.width() + 2;
    const size_t per_line =
        std::max<size_t>(1, (kLineWidth > indent ? kLineWidth - indent : 0) / element);
    std::string line_break = ",\n";
    line_break.append(indent + 1, ' ');
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) text.append(i % per_line == 0 ? line_break : std::string(", "));
      text.append(parts[i]);
    }
  } else {
    std::string separator = ",";
    separator.append(shape.size() - dim - 1, '\n');
    separator.append(indent + 1, ' ');
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) text += separator;
      text += parts[i];
    }
  }
  return text + "]";
}

}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  const std::string prefix = "tensor(";
  std::string text = prefix;
  std::vector<std::string> suffixes;
  if (t.numel() == 0) {
    text += "[]";
    if (t.shape() != Shape{0}) suffixes.push_back("size=" + format_shape(t.shape()));
  } else {
    const std::vector<double> values = t.to_vector();
    const bool summarize = t.numel() > kThreshold;
    std::vector<double> visible;
    collect_shown(values, t.shape(), 0, 0, summarize, visible);
    const Formatter formatter(visible, t.dtype());
    text += format_values(values, t.shape(), 0, 0, prefix.size(), summarize, formatter);
  }
  // f32 and i64 are the defaults PyTorch leaves unsaid.
  if (t.dtype() == DType::f64) suffixes.push_back("dtype=f64");
  if (const auto& node = t.impl()->grad_fn)
    suffixes.push_back(fmt::format("grad_fn=<{}>", node->name));
  else if (t.requires_grad())
    suffixes.push_back("requires_grad=true");
  // Each suffix goes on the last line if it fits in 80 columns, else on a line of its own.
  // (PyTorch's count, len - rfind("\n") + 1, is kept as is so the lines break where its do.)
  const size_t newline = text.rfind('\n');
  size_t last_line = newline == std::string::npos ? text.size() + 2 : text.size() - newline + 1;
  for (const std::string& suffix : suffixes) {
    if (last_line + suffix.size() + 2 > kLineWidth) {
      text.append(",\n").append(prefix.size(), ' ').append(suffix);
      last_line = prefix.size() + suffix.size();
    } else {
      text += ", " + suffix;
      last_line += suffix.size() + 2;
    }
  }
  return text + ")";
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << to_string(t); }

}  // namespace tg
