// Dropout, the function F::dropout and the module that calls it: a Bernoulli mask from the
// global generator, multiplied in.
#include "tapegrad/nn/dropout.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn {
namespace {

// The mask holds 0 or 1/(1 − p), so one mul gives both the output and, through mul's backward,
// the gradient: the same mask times the incoming gradient.
template <class T>
Tensor make_mask(const Shape& shape, DType dtype, double p) {
  Tensor mask = zeros(shape, {.dtype = dtype});
  T* values = mask.data<T>();
  const T kept = static_cast<T>(1.0 / (1.0 - p));
  for (int64_t i = 0, n = mask.numel(); i < n; ++i) values[i] = random::uniform() < p ? T(0) : kept;
  return mask;
}

void check_probability(const char* name, double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw Error(fmt::format("{}: p must be in [0, 1], got {}", name, p));
}

// The kernel of F::dropout and Dropout; `name` is the caller's, for its errors.
Tensor dropout(const char* name, const Tensor& input, double p, bool training) {
  check_probability(name, p);
  if (!is_floating(input.dtype()))
    throw Error(fmt::format("{}: input {} must be f32 or f64, not {}", name,
                            format_shape(input.shape()), dtype_name(input.dtype())));
  if (!training || p == 0.0) return input;
  // p = 1 drops everything; the zero mask also keeps 1/(1 − p) from being computed.
  if (p == 1.0) return input * zeros(input.shape(), {.dtype = input.dtype()});
  const Tensor mask = input.dtype() == DType::f32 ? make_mask<float>(input.shape(), DType::f32, p)
                                                  : make_mask<double>(input.shape(), DType::f64, p);
  return input * mask;
}

}  // namespace

Tensor functional::dropout(const Tensor& input, double p, bool training) {
  return nn::dropout("dropout", input, p, training);
}

Dropout::Dropout(double p) : p_(p) { check_probability("Dropout", p); }

Tensor Dropout::forward(const Tensor& input) {
  return nn::dropout("Dropout", input, p_, is_training());
}

}  // namespace tg::nn
