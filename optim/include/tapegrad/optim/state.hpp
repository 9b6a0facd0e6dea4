// Per-parameter optimizer state whose fields carry their state-dict names, so a state struct
// is declared once: its members are the whole list the step loop and the state dict walk.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::optim {

/// A field's name as a template argument: Buffer<"exp_avg">.
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

namespace detail {

/// Converts to any member type, to count an aggregate's members.
struct AnyField {
  template <class U>
  operator U() const;  // NOLINT: declared only, used in unevaluated checks
};

/// The number of members of the aggregate `State` (at most 8).
template <class State, class... Fields>
constexpr size_t field_count() {
  if constexpr (sizeof...(Fields) <= 8 && requires { State{Fields{}..., AnyField{}}; })
    return field_count<State, Fields..., AnyField>();
  else
    return sizeof...(Fields);
}

}  // namespace detail

/// Calls fn(field) for each member of the state struct `state` (Buffer, Count and Scalar, in
/// declaration order): how OptimizerBase saves, loads and converts a state without a second
/// list of its fields.
template <class State, class Fn>
void for_each_field(State& state, Fn&& fn) {
  constexpr size_t n = detail::field_count<std::remove_const_t<State>>();
  static_assert(n >= 1 && n <= 8, "a state struct holds 1 to 8 Buffer, Count or Scalar members");
  if constexpr (n == 1) {
    auto& [a] = state;
    fn(a);
  } else if constexpr (n == 2) {
    auto& [a, b] = state;
    fn(a), fn(b);
  } else if constexpr (n == 3) {
    auto& [a, b, c] = state;
    fn(a), fn(b), fn(c);
  } else if constexpr (n == 4) {
    auto& [a, b, c, d] = state;
    fn(a), fn(b), fn(c), fn(d);
  } else if constexpr (n == 5) {
    auto& [a, b, c, d, e] = state;
    fn(a), fn(b), fn(c), fn(d), fn(e);
  } else if constexpr (n == 6) {
    auto& [a, b, c, d, e, f] = state;
    fn(a), fn(b), fn(c), fn(d), fn(e), fn(f);
  } else if constexpr (n == 7) {
    auto& [a, b, c, d, e, f, g] = state;
    fn(a), fn(b), fn(c), fn(d), fn(e), fn(f), fn(g);
  } else {
    auto& [a, b, c, d, e, f, g, h] = state;
    fn(a), fn(b), fn(c), fn(d), fn(e), fn(f), fn(g), fn(h);
  }
}

}  // namespace tg::optim
