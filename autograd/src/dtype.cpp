// Names, sizes and shape helpers for dtypes and shapes.
#include "tapegrad/autograd/dtype.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ostream>

#include "tapegrad/autograd/error.hpp"

namespace tg {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::i64:
      return "i64";
  }
  return "?";
}

std::string to_string(DType dtype) { return dtype_name(dtype); }

std::ostream& operator<<(std::ostream& out, DType dtype) { return out << dtype_name(dtype); }

std::string format_shape(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t shape_numel(const Shape& shape) {
  // A zero extent empties the tensor whatever the others are; otherwise a product past int64
  // would wrap around (undefined behaviour) and size a buffer far smaller than the shape.
  for (int64_t s : shape)
    if (s == 0) return 0;
  int64_t n = 1;
  for (int64_t s : shape)
    if (__builtin_mul_overflow(n, s, &n))
      throw Error(
          fmt::format("shape {} has more elements than an int64 can count", format_shape(shape)));
  return n;
}

}  // namespace tg
