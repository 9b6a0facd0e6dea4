// Derivative helpers for learning: jvp, vjp, jacobian, hessian and hvp, as
// torch.autograd.functional.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::autograd {

/// A function of several tensors returning one tensor (of any shape).
using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

/// Forward mode: (f(inputs), J·tangents), the change of f along `tangents` (one per input, each of
/// its input's shape). Computed by the double-backward trick: J·t = d/du ⟨Jᵀu, t⟩.
///
///     auto [y, dy] = tg::autograd::jvp(f, {x1, x2}, {one, zero});   // ∂f/∂x₁
std::pair<Tensor, Tensor> jvp(const TensorFunction& f, std::vector<Tensor> inputs,
                              std::vector<Tensor> tangents);

/// Reverse mode: (f(inputs), vᵀJ), one gradient per input; `v` has f's output shape (may be
/// undefined for a one-element output, meaning 1).
std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f, std::vector<Tensor> inputs,
                                           Tensor v = Tensor());

/// The Jacobian of f with respect to each input: a tensor of shape [out..., in...] per input.
std::vector<Tensor> jacobian(const TensorFunction& f, std::vector<Tensor> inputs);

/// The Hessian of a one-element f at x, of shape [x..., x...] ([n, n] for a vector x).
Tensor hessian(const std::function<Tensor(const Tensor&)>& f, Tensor x);

/// The Hessian-vector product H(x)·v of a one-element f, without forming H.
Tensor hvp(const std::function<Tensor(const Tensor&)>& f, Tensor x, Tensor v);

}  // namespace tg::autograd
