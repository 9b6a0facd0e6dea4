// Element types, shapes and the options every tensor-creating function takes.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "tapegrad/autograd/shape.hpp"

namespace tg {

/// The element type of a tensor.
enum class DType : uint8_t { f32, f64, i64 };

inline constexpr DType f32 = DType::f32;
inline constexpr DType f64 = DType::f64;
inline constexpr DType i64 = DType::i64;

/// What a creation function makes: its dtype and whether it is a leaf that wants gradients.
struct TensorOptions {
  DType dtype = DType::f32;
  bool requires_grad = false;
};

/// "f32", "f64" or "i64".
const char* dtype_name(DType dtype);

/// "f32", "f64" or "i64", as dtype_name.
std::string to_string(DType dtype);

/// Prints "f32", "f64" or "i64".
std::ostream& operator<<(std::ostream& out, DType dtype);

/// Bytes per element of `dtype`.
inline int64_t element_size(DType dtype) { return dtype == DType::f32 ? 4 : 8; }

/// True for f32 and f64.
inline bool is_floating(DType dtype) { return dtype != DType::i64; }

/// "[3, 4]" (and "[]" for a scalar), as error messages and the tape print shapes.
std::string format_shape(const Shape& shape);

/// Number of elements a tensor of `shape` holds.
int64_t shape_numel(const Shape& shape);

}  // namespace tg
