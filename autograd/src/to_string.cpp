// Printing tensors: nested brackets of values, then the dtype.
#include <fmt/format.h>

#include "kernels.hpp"

namespace tg {
namespace {

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

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  std::string text = "tensor(";
  int64_t position = 0;
  append_values(text, t.to_vector(), t.shape(), 0, position, t.dtype());
  text += fmt::format(", {})", dtype_name(t.dtype()));
  return text;
}

}  // namespace tg
