// Helpers shared by the optimizer sources: option checks, gradient checks, state buffers.
#pragma once

#include <fmt/format.h>

#include "tapegrad/autograd/dispatch.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::optim::detail {

using tg::detail::dispatch_floating;

/// Throws "<optimizer>: invalid <what> <value> (must be <rule>)" unless `ok`.
inline void require(bool ok, const char* optimizer, const char* what, double value,
                    const char* rule) {
  if (!ok) throw Error(fmt::format("{}: invalid {} {} (must be {})", optimizer, what, value, rule));
}

/// The gradient of `param`, checked to match its dtype and size; undefined when absent.
inline Tensor checked_grad(const char* optimizer, const Tensor& param) {
  Tensor grad = param.grad();
  if (grad.defined() && (grad.dtype() != param.dtype() || grad.numel() != param.numel()))
    throw Error(fmt::format("{}: gradient {} {} does not match parameter {} {}", optimizer,
                            dtype_name(grad.dtype()), format_shape(grad.shape()),
                            dtype_name(param.dtype()), format_shape(param.shape())));
  return grad;
}

/// A zero-filled state buffer shaped and typed like `param`.
inline Tensor zeros_like_param(const Tensor& param) {
  return tg::zeros(param.shape(), {.dtype = param.dtype()});
}

}  // namespace tg::optim::detail
