// In-place writes (add_, sub_, mul_, div_, clamp_, zero_, uniform_, normal_): never recorded,
// each bumps the storage's version so that backward refuses tensors saved before it.
#include <fmt/format.h>

#include <cstring>

#include "kernels.hpp"
#include "node.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg {
namespace {

// Refuses an in-place `op` where the rule in tensor.hpp says so.
void check_writable(const Tensor& t, const char* op) {
  if (!t.defined())
    throw Error(
        fmt::format("{}: undefined tensor (a default-constructed Tensor, or a grad() that "
                    "no backward has reached yet)",
                    op));
  if (const detail::Node* record = t.impl()->grad_fn.get())
    throw Error(fmt::format(
        "{}: the tensor of shape {} was computed by a recorded op ('{}', record #{}); tapegrad "
        "refuses in-place writes to recorded values, which backward may need (compute a new "
        "tensor, or write into t.detach().clone())",
        op, format_shape(t.shape()), record->name, record->sequence_nr));
  if (t.requires_grad() && is_grad_enabled())
    throw Error(fmt::format(
        "{}: a leaf Variable that requires grad is being used in an in-place operation (shape "
        "{}); do the update inside a tg::NoGradGuard, as optimizers do",
        op, format_shape(t.shape())));
}

// Writes `result`, the value the op computed out of place, into self's storage.
Tensor& write_result(Tensor& self, const char* op, const Tensor& result) {
  if (self.dtype() == DType::i64 && result.dtype() != DType::i64)
    throw Error(fmt::format(
        "{}: the result is {}, which the i64 tensor of shape {} cannot hold (use an integer "
        "operand, or convert with .to(tg::f32) first)",
        op, dtype_name(result.dtype()), format_shape(self.shape())));
  const Tensor converted = detail::as_dtype(result, self.dtype());
  std::memcpy(self.impl()->data, converted.impl()->data,
              static_cast<size_t>(self.numel() * element_size(self.dtype())));
  self.mark_modified();
  return self;
}

// self = compute(), where compute is the out-of-place op on self and `other`.
template <class Compute>
Tensor& binary_in_place(Tensor& self, const char* op, const Tensor& other, Compute compute) {
  check_writable(self, op);
  if (!other.defined())
    throw Error(fmt::format("{}: the other operand is an undefined tensor", op));
  if (detail::broadcast_shapes(op, self.shape(), other.shape()) != self.shape())
    throw Error(
        fmt::format("{}: an operand of shape {} does not broadcast into the tensor of "
                    "shape {} being written",
                    op, format_shape(other.shape()), format_shape(self.shape())));
  Tensor result;
  {
    NoGradGuard no_grad;
    result = compute();
  }
  return write_result(self, op, result);
}

// A double operand: a 0-D tensor of self's dtype when floating, f32 when self is i64 (which the
// write then refuses, as PyTorch: the result type of an i64 tensor and a double is a float).
Tensor double_operand(const Tensor& self, double value) {
  return scalar(value, {.dtype = self.dtype() == DType::i64 ? DType::f32 : self.dtype()});
}

template <class Sample>
Tensor& sample_in_place(Tensor& self, const char* op, Sample sample) {
  check_writable(self, op);
  detail::dispatch_floating(op, self.dtype(), [&]<class T>() {
    T* x = detail::data_of<T>(self);
    random::GeneratorLock lock;  // one lock for the whole fill, as rand and randn take
    for (int64_t i = 0, end = self.numel(); i < end; ++i) x[i] = static_cast<T>(sample());
  });
  self.mark_modified();
  return self;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other) {
  return binary_in_place(*this, "add_", other, [&] { return tg::add(*this, other); });
}
Tensor& Tensor::sub_(const Tensor& other) {
  return binary_in_place(*this, "sub_", other, [&] { return tg::sub(*this, other); });
}
Tensor& Tensor::mul_(const Tensor& other) {
  return binary_in_place(*this, "mul_", other, [&] { return tg::mul(*this, other); });
}
Tensor& Tensor::div_(const Tensor& other) {
  return binary_in_place(*this, "div_", other, [&] { return tg::div(*this, other); });
}
Tensor& Tensor::add_(double value) {
  check_writable(*this, "add_");
  return add_(double_operand(*this, value));
}
Tensor& Tensor::sub_(double value) {
  check_writable(*this, "sub_");
  return sub_(double_operand(*this, value));
}
Tensor& Tensor::mul_(double value) {
  check_writable(*this, "mul_");
  return mul_(double_operand(*this, value));
}
Tensor& Tensor::div_(double value) {
  check_writable(*this, "div_");
  return div_(double_operand(*this, value));
}

Tensor& Tensor::clamp_(double lo, double hi) {
  check_writable(*this, "clamp_");
  Tensor result;
  {
    NoGradGuard no_grad;
    result = tg::clamp(*this, lo, hi);
  }
  return write_result(*this, "clamp_", result);
}

Tensor& Tensor::zero_() {
  check_writable(*this, "zero_");
  return fill_(0.0);
}

Tensor& Tensor::uniform_(double from, double to) {
  if (!(from <= to)) throw Error(fmt::format("uniform_: from {} must not exceed to {}", from, to));
  return sample_in_place(*this, "uniform_", [=] { return from + (to - from) * random::uniform(); });
}

Tensor& Tensor::normal_(double mean, double std) {
  if (!(std >= 0.0)) throw Error(fmt::format("normal_: std must be >= 0, got {}", std));
  return sample_in_place(*this, "normal_", [=] { return mean + std * random::normal(); });
}

}  // namespace tg
