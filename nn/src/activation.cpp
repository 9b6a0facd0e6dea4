// Layers without parameters: each forwards to the tg:: op of the same name.
#include "tapegrad/nn/activation.hpp"

#include "tapegrad/autograd/ops.hpp"

namespace tg::nn {

Tensor ReLU::forward(const Tensor& input) { return relu(input); }
Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(input); }
Tensor Tanh::forward(const Tensor& input) { return tanh(input); }
Tensor LeakyReLU::forward(const Tensor& input) { return leaky_relu(input, negative_slope_); }
Tensor Softmax::forward(const Tensor& input) { return softmax(input, dim_); }
Tensor LogSoftmax::forward(const Tensor& input) { return log_softmax(input, dim_); }
Tensor GELU::forward(const Tensor& input) { return gelu(input); }
Tensor SiLU::forward(const Tensor& input) { return silu(input); }
Tensor ELU::forward(const Tensor& input) { return elu(input, alpha_); }
Tensor Softplus::forward(const Tensor& input) { return softplus(input, beta_, threshold_); }
Tensor Flatten::forward(const Tensor& input) { return flatten(input, start_dim_, end_dim_); }
Tensor Identity::forward(const Tensor& input) { return input; }

}  // namespace tg::nn
