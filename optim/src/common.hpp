// Helpers shared by the optimizer sources: option checks, group conversion, dtype dispatch.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/tensor.hpp"
#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim::detail {

/// Throws "<optimizer>: invalid <what> <value> (must be <rule>)" unless `ok`.
inline void require(bool ok, const char* optimizer, const char* what, double value,
                    const char* rule) {
  if (!ok) throw Error(fmt::format("{}: invalid {} {} (must be {})", optimizer, what, value, rule));
}

/// The base-class groups of an optimizer's own groups (each has .params and .options.lr).
template <class Group>
std::vector<ParamGroup> to_param_groups(std::vector<Group>& groups) {
  std::vector<ParamGroup> result;
  result.reserve(groups.size());
  for (Group& group : groups) result.push_back({std::move(group.params), group.options.lr});
  return result;
}

/// The options of each group, in group order.
template <class Group>
auto options_of(const std::vector<Group>& groups) {
  std::vector<decltype(groups.front().options)> result;
  result.reserve(groups.size());
  for (const Group& group : groups) result.push_back(group.options);
  return result;
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

/// Calls `fn.template operator()<T>()` with T = float or double, as `dtype` says.
template <class Fn>
void dispatch_floating(DType dtype, Fn&& fn) {
  if (dtype == DType::f32)
    fn.template operator()<float>();
  else
    fn.template operator()<double>();
}

}  // namespace tg::optim::detail
