// Per-parameter optimizer state whose fields carry their state-dict names, so a state struct
// is declared once: its members (tapegrad/optim/members.hpp) are the whole list the step loop
// and the state dict walk.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::optim {

/// A name as a template argument: a state field's (Buffer<"exp_avg">) or an optimizer's
/// (OptimizerBase<AdamOptions, AdamParamState, "Adam">).
template <size_t N>
struct FieldName {
  char text[N];
  /// From a string literal.
  constexpr FieldName(const char (&name)[N]) { std::copy_n(name, N, text); }  // NOLINT
  /// The name without its terminator.
  constexpr std::string_view view() const { return {text, N - 1}; }
};

/// A per-parameter state buffer, a Tensor saved as `state.<index>.<Name>`; undefined until
/// the first update that needs it.
template <FieldName Name>
struct Buffer : Tensor {
  using Tensor::Tensor;
  Buffer() = default;
  /// Holds `tensor` (shares its storage).
  Buffer(Tensor tensor) : Tensor(std::move(tensor)) {}  // NOLINT: a buffer is a tensor
  /// Rebinds to `tensor`.
  Buffer& operator=(Tensor tensor) & {
    Tensor::operator=(std::move(tensor));
    return *this;
  }
  /// The state-dict name.
  static constexpr std::string_view name = Name.view();
};

/// A per-parameter count (the step t), an int64_t saved as `state.<index>.<Name>`.
template <FieldName Name>
struct Count {
  int64_t value = 0;  ///< the count
  /// The count.
  operator int64_t() const { return value; }  // NOLINT: a count is an integer
  /// Adds `n` (`state.step += 1`).
  Count& operator+=(int64_t n) {
    value += n;
    return *this;
  }
  /// The state-dict name.
  static constexpr std::string_view name = Name.view();
};

/// A per-parameter real number (NAdam's running product of momenta), a double saved as
/// `state.<index>.<Name>`.
template <FieldName Name>
struct Scalar {
  double value = 0;  ///< the number
  /// The number.
  operator double() const { return value; }  // NOLINT: a scalar is a double
  /// Sets the number.
  Scalar& operator=(double number) {
    value = number;
    return *this;
  }
  /// The state-dict name.
  static constexpr std::string_view name = Name.view();
};

/// The step count every adaptive optimizer keeps, PyTorch's `step`.
using Step = Count<"step">;

}  // namespace tg::optim
