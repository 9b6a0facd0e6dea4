// + - * / and negation, with broadcasting; each forward beside its backward.
#include <array>
#include <bit>
#include <cstdint>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

template <class F>
Tensor broadcast_op(const char* op, const Tensor& a, const Tensor& b, F f) {
  return detail::dispatch(detail::promote(a.dtype(), b.dtype()),
                          [&]<class T>() { return detail::binary_kernel<T>(op, a, b, f); });
}

// A double beside a tensor: the tensor's dtype when floating, else f32 (the default float
// dtype). By type, never by value: arange(3) * 2.0 is f32 like arange(3) * 0.5, as PyTorch.
// The last few constants are kept per thread: `x / 2.0` in a loop would otherwise build the
// same 0-D tensor every call, a sixth of a scalar op's cost. Nothing writes to them: they are
// only ever an op's input, never its output.
Tensor double_operand(const Tensor& t, double value) {
  const DType dtype = t.dtype() == DType::i64 ? DType::f32 : t.dtype();
  struct Constant {
    uint64_t bits = 0;
    DType dtype = DType::f32;
    Tensor tensor;
  };
  thread_local std::array<Constant, 8> recent;
  thread_local size_t next_slot = 0;
  const auto bits = std::bit_cast<uint64_t>(value);
  for (const Constant& c : recent)
    if (c.tensor.defined() && c.bits == bits && c.dtype == dtype) return c.tensor;
  Constant& slot = recent[next_slot];
  next_slot = (next_slot + 1) % recent.size();
  slot = {bits, dtype, scalar(value, {.dtype = dtype})};
  return slot.tensor;
}

}  // namespace

namespace detail {
Tensor integer_operand(const Tensor& like, int64_t value) {
  Tensor out = empty({}, like.dtype());
  dispatch(like.dtype(), [&]<class T>() { *data_of<T>(out) = static_cast<T>(value); });
  return out;
}
}  // namespace detail

// d(a+b)/da = 1, d(a+b)/db = 1 (the engine sums each gradient back to its input's shape)
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_op("add", a, b, [](auto x, auto y) { return x + y; });
  return detail::record("add", out, {&a, &b}, [](const Tensor& g) -> Gradients { return {g, g}; });
}

// d(a-b)/da = 1, d(a-b)/db = -1
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_op("sub", a, b, [](auto x, auto y) { return x - y; });
  return detail::record("sub", out, {&a, &b}, [](const Tensor& g) -> Gradients {
    return {g, neg(g)};
  });
}

// d(a*b)/da = b, d(a*b)/db = a
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = broadcast_op("mul", a, b, [](auto x, auto y) { return x * y; });
  if (detail::unrecorded("mul", out, {&a, &b})) return out;
  const bool a_needs = a.requires_grad(), b_needs = b.requires_grad();
  return detail::record(
      "mul", out, {&a, &b},
      [a = detail::SavedTensor(a), b = detail::SavedTensor(b), a_needs,
       b_needs](const Tensor& g) -> Gradients {
        return {a_needs ? g * b.unpack() : Tensor(), b_needs ? g * a.unpack() : Tensor()};
      });
}

// d(a/b)/da = 1/b, d(a/b)/db = -a/b²
Tensor div(const Tensor& a, const Tensor& b) {
  // True division: integers divide as floats, as in PyTorch.
  const DType dtype = detail::promote(a.dtype(), b.dtype());
  const Tensor x = dtype == DType::i64 ? detail::as_dtype(a, DType::f32) : a;
  Tensor out = broadcast_op("div", x, b, [](auto p, auto q) { return p / q; });
  if (detail::unrecorded("div", out, {&a, &b})) return out;
  const bool a_needs = a.requires_grad(), b_needs = b.requires_grad();
  return detail::record(
      "div", out, {&a, &b},
      [a = detail::SavedTensor(a), b = detail::SavedTensor(b), a_needs,
       b_needs](const Tensor& g) -> Gradients {
        const Tensor& y = b.unpack();
        return {a_needs ? g / y : Tensor(), b_needs ? neg(g) * a.unpack() / (y * y) : Tensor()};
      });
}

// d(-a)/da = -1
Tensor neg(const Tensor& a) {
  Tensor out = detail::dispatch(
      a.dtype(), [&]<class T>() { return detail::unary_kernel<T>(a, [](T x) { return -x; }); });
  return detail::record("neg", out, {&a}, [](const Tensor& g) -> Gradients { return {neg(g)}; });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) { return add(a, double_operand(a, b)); }
Tensor operator-(const Tensor& a, double b) { return sub(a, double_operand(a, b)); }
Tensor operator*(const Tensor& a, double b) { return mul(a, double_operand(a, b)); }
Tensor operator/(const Tensor& a, double b) { return div(a, double_operand(a, b)); }
Tensor operator+(double a, const Tensor& b) { return add(double_operand(b, a), b); }
Tensor operator-(double a, const Tensor& b) { return sub(double_operand(b, a), b); }
Tensor operator*(double a, const Tensor& b) { return mul(double_operand(b, a), b); }
Tensor operator/(double a, const Tensor& b) { return div(double_operand(b, a), b); }
Tensor operator-(const Tensor& a) { return neg(a); }

}  // namespace tg
