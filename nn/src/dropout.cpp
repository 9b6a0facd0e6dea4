// tg::nn::Dropout: a Bernoulli mask from the global generator, multiplied in.
#include "tapegrad/nn/dropout.hpp"

#include <fmt/format.h>

#include <type_traits>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"

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

}  // namespace

Dropout::Dropout(double p) : p_(p) {
  if (!(p >= 0.0 && p <= 1.0)) throw Error(fmt::format("Dropout: p must be in [0, 1], got {}", p));
}

Tensor Dropout::forward(const Tensor& input) {
  if (!is_floating(input.dtype()))
    throw Error(fmt::format("Dropout: input {} must be f32 or f64, not {}",
                            format_shape(input.shape()), dtype_name(input.dtype())));
  if (!is_training() || p_ == 0.0) return input;
  // p = 1 drops everything; the zero mask also keeps 1/(1 − p) from being computed.
  if (p_ == 1.0) return input * zeros(input.shape(), {.dtype = input.dtype()});
  const Tensor mask = input.dtype() == DType::f32
                          ? make_mask<float>(input.shape(), DType::f32, p_)
                          : make_mask<double>(input.shape(), DType::f64, p_);
  return input * mask;
}

}  // namespace tg::nn
