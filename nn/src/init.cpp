// tg::nn::init: fan computation, gains, and fills that write straight into the tensors' storage.
#include "tapegrad/nn/init.hpp"

#include <fmt/format.h>

#include <cmath>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg::nn::init {
namespace {

void check_floating(const char* op, const Tensor& tensor) {
  if (!tensor.defined()) throw Error(fmt::format("init::{}: the tensor is undefined", op));
  if (!is_floating(tensor.dtype()))
    throw Error(fmt::format("init::{}: tensor {} must be f32 or f64, not {}", op,
                            format_shape(tensor.shape()), dtype_name(tensor.dtype())));
}

// Writes sample() into every element. Storage is written directly, which records nothing, so
// this behaves as under NoGradGuard whatever the grad mode.
template <class Sample>
void fill_with(Tensor& tensor, Sample sample) {
  if (tensor.dtype() == DType::f32) {
    float* values = tensor.data<float>();
    for (int64_t i = 0, n = tensor.numel(); i < n; ++i) values[i] = static_cast<float>(sample());
  } else {
    double* values = tensor.data<double>();
    for (int64_t i = 0, n = tensor.numel(); i < n; ++i) values[i] = sample();
  }
  tensor.mark_modified();
}

struct Fans {
  double in;
  double out;
};

// As PyTorch's _calculate_fan_in_and_fan_out: dims past the second form the receptive field.
Fans fans(const char* op, const Tensor& tensor) {
  if (tensor.dim() < 2)
    throw Error(fmt::format("init::{}: fan in and fan out need a tensor of at least 2 dims, got {}",
                            op, format_shape(tensor.shape())));
  double receptive_field = 1.0;
  for (int64_t d = 2; d < tensor.dim(); ++d)
    receptive_field *= static_cast<double>(tensor.shape()[static_cast<size_t>(d)]);
  return {static_cast<double>(tensor.shape()[1]) * receptive_field,
          static_cast<double>(tensor.shape()[0]) * receptive_field};
}

double kaiming_std(const char* op, const Tensor& tensor, double a, FanMode mode,
                   Nonlinearity nonlinearity) {
  const Fans f = fans(op, tensor);
  const double fan = mode == FanMode::fan_in ? f.in : f.out;
  return calculate_gain(nonlinearity, a) / std::sqrt(fan);
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param) {
  switch (nonlinearity) {
    case Nonlinearity::linear:
    case Nonlinearity::sigmoid:
      return 1.0;
    case Nonlinearity::tanh:
      return 5.0 / 3.0;
    case Nonlinearity::relu:
      return std::sqrt(2.0);
    case Nonlinearity::leaky_relu: {
      const double slope = param.value_or(0.01);
      return std::sqrt(2.0 / (1.0 + slope * slope));
    }
    case Nonlinearity::selu:
      return 3.0 / 4.0;
  }
  throw Error("init::calculate_gain: unknown nonlinearity");
}

Tensor uniform_(Tensor tensor, double a, double b) {
  check_floating("uniform_", tensor);
  if (!(a <= b)) throw Error(fmt::format("init::uniform_: a ({}) must be ≤ b ({})", a, b));
  fill_with(tensor, [&] { return a + (b - a) * random::uniform(); });
  return tensor;
}

Tensor normal_(Tensor tensor, double mean, double std) {
  check_floating("normal_", tensor);
  if (!(std >= 0.0)) throw Error(fmt::format("init::normal_: std ({}) must be ≥ 0", std));
  fill_with(tensor, [&] { return mean + std * random::normal(); });
  return tensor;
}

Tensor constant_(Tensor tensor, double value) {
  if (!tensor.defined()) throw Error("init::constant_: the tensor is undefined");
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0); }

Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0); }

Tensor xavier_uniform_(Tensor tensor, double gain) {
  check_floating("xavier_uniform_", tensor);
  const Fans f = fans("xavier_uniform_", tensor);
  const double bound = gain * std::sqrt(6.0 / (f.in + f.out));  // √3 · gain·√(2/(in+out))
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor xavier_normal_(Tensor tensor, double gain) {
  check_floating("xavier_normal_", tensor);
  const Fans f = fans("xavier_normal_", tensor);
  return normal_(std::move(tensor), 0.0, gain * std::sqrt(2.0 / (f.in + f.out)));
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_floating("kaiming_uniform_", tensor);
  if (tensor.numel() == 0) return tensor;  // a zero fan would divide by zero; nothing to fill
  const double bound =
      std::sqrt(3.0) * kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity);
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
  check_floating("kaiming_normal_", tensor);
  if (tensor.numel() == 0) return tensor;
  const double std = kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity);
  return normal_(std::move(tensor), 0.0, std);
}

}  // namespace tg::nn::init
