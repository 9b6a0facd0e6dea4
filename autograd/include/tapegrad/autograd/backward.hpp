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

/// How tg::grad runs, as torch.autograd.grad's keyword arguments.
struct GradOptions {
  bool create_graph = false;  ///< record the backward, so the result is differentiable again
  bool retain_graph = false;  ///< keep the graph for another backward (implied by create_graph)
  bool allow_unused = false;  ///< an input the outputs do not depend on gets an undefined tensor
};

/// tg::grad as PyTorch's: an input the outputs do not depend on throws tg::Error naming its
/// index and shape, unless `allow_unused`.
///
///     Tensor dx = tg::grad({y}, {x}, {}, {.create_graph = true})[0];
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, const GradOptions& options);

}  // namespace tg
