// tg::nn::Linear: PyTorch's initialisation and the forward through the fused tg::linear.
#include "tapegrad/nn/linear.hpp"

#include <fmt/format.h>

#include <cmath>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/nn/init.hpp"

namespace tg::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias)
    : in_features_(in_features), out_features_(out_features) {
  if (in_features <= 0 || out_features <= 0)
    throw Error(fmt::format("Linear: in_features ({}) and out_features ({}) must be positive",
                            in_features, out_features));
  weight = register_parameter("weight", zeros({out_features, in_features}));
  // a = √5 makes the gain √(2 / (1 + 5)) and the bound √3·gain/√in = 1/√in, PyTorch's choice.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (with_bias) {
    bias = register_parameter("bias", zeros({out_features}));
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    init::uniform_(bias, -bound, bound);
  }
}

void Linear::check_input(const Tensor& input) const {
  if (input.dim() < 1 || input.shape().back() != in_features_)
    throw Error(
        fmt::format("Linear(in_features={}, out_features={}): input {} must have {} as "
                    "its last dimension",
                    in_features_, out_features_, format_shape(input.shape()), in_features_));
}

Tensor Linear::forward(const Tensor& input) {
  check_input(input);
  return linear(input, weight, bias);
}

Tensor Linear::forward_relu(const Tensor& input) {
  check_input(input);
  return linear_relu(input, weight, bias);
}

}  // namespace tg::nn
