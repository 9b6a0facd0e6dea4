// The Optimizer interface (zero_grad, learning rates, group views) and the checks OptimizerBase
// uses.
#include "tapegrad/optim/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

void detail::require(bool ok, const char* optimizer, const char* what, double value,
                     const char* rule) {
  if (!ok) throw Error(fmt::format("{}: invalid {} {} (must be {})", optimizer, what, value, rule));
}

void detail::check_option(const char* optimizer, std::string_view name, double value) {
  if (name == "lr") {
    require(value >= 0, optimizer, "learning rate", value, ">= 0");
  } else if (name == "rho") {
    require(value >= 0 && value <= 1, optimizer, "rho", value, "in [0, 1]");
  } else {
    for (const char* non_negative : {"eps", "weight_decay", "momentum", "alpha", "lr_decay",
                                     "initial_accumulator_value", "momentum_decay"})
      if (name == non_negative) require(value >= 0, optimizer, non_negative, value, ">= 0");
  }
}

void detail::require_betas(const char* optimizer, const std::pair<double, double>& betas) {
  require(betas.first >= 0 && betas.first < 1, optimizer, "beta1", betas.first, "in [0, 1)");
  require(betas.second >= 0 && betas.second < 1, optimizer, "beta2", betas.second, "in [0, 1)");
}

bool detail::cpu_has_avx2() {
#if defined(__x86_64__)
  static const bool has_avx2 = [] {
    __builtin_cpu_init();  // in case a static initialiser steps an optimizer before main
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has_avx2;
#else
  return false;
#endif
}

Tensor detail::checked_grad(const char* optimizer, const Tensor& param) {
  Tensor grad = param.grad();
  if (grad.defined() && (grad.dtype() != param.dtype() || grad.numel() != param.numel()))
    throw Error(fmt::format("{}: gradient {} {} does not match parameter {} {}", optimizer,
                            dtype_name(grad.dtype()), format_shape(grad.shape()),
                            dtype_name(param.dtype()), format_shape(param.shape())));
  return grad;
}

void detail::check_new_params(const char* optimizer, size_t group,
                              const std::vector<Tensor>& params, std::vector<const void*> seen) {
  const char* name = optimizer;
  const size_t g = group;
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& param = params[i];
    if (!param.defined())
      throw Error(fmt::format("{}: parameter {} of group {} is an undefined tensor", name, i, g));
    if (!is_floating(param.dtype()))
      throw Error(fmt::format(
          "{}: parameter {} of group {} is {} {}; only f32 and f64 tensors can be optimized", name,
          i, g, dtype_name(param.dtype()), format_shape(param.shape())));
    // An op's result is recomputed from the leaves on every forward, so an update written into
    // it would never reach the model: PyTorch refuses it too ("can't optimize a non-leaf Tensor").
    if (!param.is_leaf())
      throw Error(fmt::format(
          "{}: can't optimize a non-leaf tensor: parameter {} of group {} ({} {}) is the result "
          "of an op; pass the leaf it was computed from (or a .detach()ed copy)",
          name, i, g, dtype_name(param.dtype()), format_shape(param.shape())));
    if (std::find(seen.begin(), seen.end(), param.impl()) != seen.end())
      throw Error(fmt::format(
          "{}: a parameter appears more than once in the parameter list (parameter {} of group "
          "{}, shape {})",
          name, i, g, format_shape(param.shape())));
    seen.push_back(param.impl());
  }
}

void Optimizer::zero_grad() {
  for (size_t g = 0; g < group_count(); ++g)
    for (Tensor param : group_params(g)) param.zero_grad();
}

double Optimizer::lr() const { return group_lr(0); }

void Optimizer::set_lr(double lr) {
  detail::require(lr >= 0, name_, "learning rate", lr, ">= 0");
  for (size_t g = 0; g < group_count(); ++g) group_lr(g) = lr;
}

std::vector<ParamGroupView> Optimizer::param_groups() {
  std::vector<ParamGroupView> result;
  for (size_t g = 0; g < group_count(); ++g) result.push_back({group_params(g), group_lr(g)});
  return result;
}

std::vector<ConstParamGroupView> Optimizer::param_groups() const {
  std::vector<ConstParamGroupView> result;
  for (size_t g = 0; g < group_count(); ++g) result.push_back({group_params(g), group_lr(g)});
  return result;
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> result;
  for (size_t g = 0; g < group_count(); ++g)
    result.insert(result.end(), group_params(g).begin(), group_params(g).end());
  return result;
}

}  // namespace tg::optim
