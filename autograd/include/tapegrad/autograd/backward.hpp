// tg::grad: gradients of outputs with respect to chosen inputs, without touching .grad().
#pragma once

#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// d(outputs)/d(inputs), each weighted by its grad_output (ones for scalars when omitted).
/// With `create_graph` the result is itself differentiable (grad of grad, Hessian products).
/// An input the outputs do not depend on gets an undefined tensor. The graph is freed unless
/// `retain_graph` or `create_graph` is set, as in PyTorch.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         bool retain_graph = false);

}  // namespace tg
