// The Optimizer interface: zero_grad, learning-rate access and the group views.
#include "tapegrad/optim/optimizer.hpp"

#include "common.hpp"

namespace tg::optim {

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
