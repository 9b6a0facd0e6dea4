// tg::optim::Optimizer, the base of every optimizer: parameter groups, learning rates, zero_grad.
#pragma once

#include <cstddef>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::optim {

/// Parameters that share a learning rate; schedulers read and write `lr` through
/// Optimizer::param_groups().
struct ParamGroup {
  std::vector<Tensor> params;  ///< handles aliasing the model's tensors
  double lr = 0;               ///< the current learning rate of this group
};

/// The base of every optimizer, so a training loop can hold any of them by reference.
/// Per-parameter state lives in each optimizer as a small struct per parameter, aligned with
/// parameters() (group by group, in the order given). Parameters need not require grad;
/// those that have no gradient when step() runs are skipped and their state left untouched.
///
///     tg::optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9});
///     for (auto [x, y] : loader) {
///       opt.zero_grad();
///       tg::F::mse_loss(model(x), y).backward();
///       opt.step();
///     }
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Updates every parameter that has a gradient, in place and without recording on the tape.
  virtual void step() = 0;
  /// Leaves every parameter's grad undefined (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  /// The learning rate of the first group.
  double lr() const;
  /// Sets the learning rate of every group; throws tg::Error for a negative or NaN `lr`.
  void set_lr(double lr);
  /// The groups, for schedulers and per-group learning rates; change `lr` only (adding or
  /// reordering parameters would misalign the per-parameter state).
  std::vector<ParamGroup>& param_groups() { return groups_; }
  /// The groups, read-only.
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  /// Every parameter, group by group: the order in which per-parameter state is kept.
  std::vector<Tensor> parameters() const;
  /// The optimizer's name as error messages print it ("SGD", "Adam", ...).
  const char* name() const { return name_; }

 protected:
  /// Validates the groups (non-empty, f32/f64 parameters, each parameter in one group only,
  /// lr >= 0) and keeps them; `name` prefixes every error message.
  Optimizer(const char* name, std::vector<ParamGroup> groups);

 private:
  const char* name_;
  std::vector<ParamGroup> groups_;
};

}  // namespace tg::optim
