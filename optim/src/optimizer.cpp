// The Optimizer base: group validation, zero_grad and learning-rate access.
#include "tapegrad/optim/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common.hpp"

namespace tg::optim {

Optimizer::Optimizer(const char* name, std::vector<ParamGroup> groups)
    : name_(name), groups_(std::move(groups)) {
  std::vector<const void*> seen;
  for (size_t g = 0; g < groups_.size(); ++g) {
    detail::require(groups_[g].lr >= 0, name_, "learning rate", groups_[g].lr, ">= 0");
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const Tensor& param = groups_[g].params[i];
      if (!param.defined())
        throw Error(
            fmt::format("{}: parameter {} of group {} is an undefined tensor", name_, i, g));
      if (!is_floating(param.dtype()))
        throw Error(fmt::format(
            "{}: parameter {} of group {} is {} {}; only f32 and f64 tensors can be optimized",
            name_, i, g, dtype_name(param.dtype()), format_shape(param.shape())));
      seen.push_back(param.impl());
    }
  }
  if (seen.empty()) throw Error(fmt::format("{}: got an empty parameter list", name_));
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
    throw Error(fmt::format("{}: a parameter appears more than once in the parameter list", name_));
}

void Optimizer::zero_grad() {
  for (ParamGroup& group : groups_)
    for (Tensor& param : group.params) param.zero_grad();
}

double Optimizer::lr() const { return groups_.front().lr; }

void Optimizer::set_lr(double lr) {
  detail::require(lr >= 0, name_, "learning rate", lr, ">= 0");
  for (ParamGroup& group : groups_) group.lr = lr;
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> result;
  for (const ParamGroup& group : groups_)
    result.insert(result.end(), group.params.begin(), group.params.end());
  return result;
}

}  // namespace tg::optim
