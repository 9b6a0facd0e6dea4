// tg::optim::Optimizer, the interface of every optimizer, and OptimizerBase, which owns the
// parameter groups, the per-parameter state, the step loop and the state dict. An optimizer's
// header needs only this one: it brings the state fields (tapegrad/optim/state.hpp) and
// std::pair for betas.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tapegrad/autograd/state_dict.hpp"
#include "tapegrad/autograd/tensor.hpp"
#include "tapegrad/optim/state.hpp"

namespace tg::optim {

/// One parameter group as the Optimizer interface shows it: the parameters, read-only (only
/// add_param_group adds parameters, so per-parameter state cannot fall out of step), and the
/// group's learning rate, which is the `lr` field of the group's options itself. A view
/// refers into the optimizer: use it before the next add_param_group.
struct ParamGroupView {
  const std::vector<Tensor>& params;  ///< handles aliasing the model's tensors
  double& lr;                         ///< the group's current learning rate
};

/// The same, read-only.
struct ConstParamGroupView {
  const std::vector<Tensor>& params;  ///< handles aliasing the model's tensors
  const double& lr;                   ///< the group's current learning rate
};

/// The interface of every optimizer, so a training loop can hold any of them by reference.
/// Per-parameter state is kept in parameters() order (group by group, in the order given).
/// Parameters need not require grad; those without a gradient when step() runs are skipped
/// and their state left untouched.
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

  /// Calls `closure` (if given: it clears the gradients, computes the loss, calls backward()
  /// and returns the loss) with recording on, then updates every parameter that has a
  /// gradient, in place and unrecorded. Returns the closure's loss (undefined without one).
  virtual Tensor step(std::function<Tensor()> closure = {}) = 0;
  /// Leaves every parameter's grad undefined (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  /// The learning rate of the first group.
  double lr() const;
  /// Sets the learning rate of every group; throws tg::Error for a negative or NaN `lr`.
  void set_lr(double lr);
  /// The groups' parameters (read-only) and learning rates (writable), for schedulers.
  std::vector<ParamGroupView> param_groups();
  /// The groups, read-only.
  std::vector<ConstParamGroupView> param_groups() const;
  /// Adds a group of new `params` with the options the optimizer was constructed with (the
  /// first group's); throws tg::Error for a parameter it already optimizes.
  virtual void add_param_group(std::vector<Tensor> params) = 0;
  /// Every parameter, group by group: the order in which per-parameter state is kept.
  std::vector<Tensor> parameters() const;
  /// The optimizer's name as error messages and state dicts print it ("SGD", "Adam", ...).
  const char* name() const { return name_; }

  /// Every per-parameter buffer and step count (`state.<index>.<name>`), each group's options
  /// and parameter indices (`param_groups.<group>.<option>`, `param_groups.<group>.params`)
  /// and a `type` entry naming the optimizer; copies, not aliases.
  virtual StateDict state_dict() const = 0;
  /// Restores a state_dict() of the same optimizer type over the same parameter layout;
  /// validates every entry first and throws tg::Error naming the first bad one, changing
  /// nothing then. Loaded buffers are copies of the dict's tensors.
  virtual void load_state_dict(const StateDict& dict) = 0;

 protected:
  /// `name` prefixes every error message.
  explicit Optimizer(const char* name) : name_(name) {}
  /// The number of groups.
  virtual size_t group_count() const = 0;
  /// The parameters of group `group`.
  virtual const std::vector<Tensor>& group_params(size_t group) const = 0;
  /// The lr field of group `group`'s options.
  virtual double& group_lr(size_t group) = 0;
  /// The same, read-only.
  virtual const double& group_lr(size_t group) const = 0;

 private:
  const char* name_;
};

/// The kinds of fields an options or state struct can hand to the state dict.
template <class Struct>
using FieldMember =
    std::variant<double Struct::*, int64_t Struct::*, bool Struct::*,
                 std::pair<double, double> Struct::*, std::string Struct::*,
                 std::optional<int64_t> Struct::*, Tensor Struct::*, std::vector<double> Struct::*,
                 std::deque<double> Struct::*, std::deque<std::vector<double>> Struct::*>;

/// One field of an options or state struct: its state-dict name and the member it is.
template <class Struct>
struct Field {
  const char* name;
  FieldMember<Struct> member;
};

/// Parameters that share one set of options, as constructors and add_param_group take them.
template <class Options>
struct ParamGroupOptions {
  std::vector<Tensor> params;
  Options options;
};

/// What every optimizer shares: groups that each carry their options (the lr among them, in
/// that one place), per-parameter state created with the parameters, the step loop that skips
/// parameters without a gradient and keeps each state buffer in its parameter's dtype, and
/// state_dict()/load_state_dict() driven by the options' and the state struct's own members
/// (tapegrad/optim/members.hpp, tapegrad/optim/state.hpp). `Name` is the optimizer's name in
/// errors and in the state dict. A derived optimizer supplies its options, its state struct
/// and update() (usually one update_elements call), and takes the base's constructors
/// (`using OptimizerBase::OptimizerBase;`), which check the options by their PyTorch names
/// (detail::check_options). The member definitions live in tapegrad/optim/optimizer_base.hpp:
/// include it to define an optimizer, in the library or outside it.
template <class OptionsType, class StateType, FieldName Name>
class OptimizerBase : public Optimizer {
 public:
  using Options = OptionsType;
  using State = StateType;
  using Group = ParamGroupOptions<Options>;

  /// One group of `params` with `options`; throws tg::Error for invalid options.
  explicit OptimizerBase(std::vector<Tensor> params, Options options = {})
      : OptimizerBase(std::vector<Group>{{std::move(params), std::move(options)}}) {}
  /// Several groups, each with its own options; the first group's options are
  /// add_param_group's defaults.
  explicit OptimizerBase(std::vector<Group> groups);

  Tensor step(std::function<Tensor()> closure = {}) override;
  void add_param_group(std::vector<Tensor> params) override;
  /// Adds a group of new `group.params` with `group.options`; throws tg::Error for invalid
  /// options or a parameter the optimizer already has.
  void add_param_group(Group group);
  /// The options of group `group`; writable, and their lr is the group's lr.
  Options& options(size_t group = 0) { return groups_.at(group).options; }
  /// The options of group `group`, read-only.
  const Options& options(size_t group = 0) const { return groups_.at(group).options; }
  /// The state of parameter `index` in parameters() order.
  const State& state(size_t index) const { return state_.at(index); }
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& dict) override;

 protected:
  /// Throws tg::Error naming the optimizer (`name`) and the bad value unless `options` are
  /// valid; a plain function, since the base constructor calls it before the derived exists.
  using Validate = void (*)(const char* name, const Options& options);
  /// For an optimizer with checks of its own (SGD's nesterov, LBFGS) or shown under another
  /// name (AdamW): validates with `validate` and keeps `groups`.
  OptimizerBase(const char* name, std::vector<Group> groups, Validate validate);
  /// One update of `param` from `grad`; `state` is this parameter's, its buffers already in
  /// the parameter's dtype.
  virtual void update(Tensor& param, const Tensor& grad, State& state, const Options& options) = 0;
  /// What is wrong with a loaded state beyond each buffer's shape and dtype ("" if nothing).
  virtual std::string check_loaded(const std::vector<State>& loaded) const {
    (void)loaded;
    return {};
  }
  /// The per-parameter state, in parameters() order.
  std::vector<State>& mutable_state() { return state_; }

  size_t group_count() const override { return groups_.size(); }
  const std::vector<Tensor>& group_params(size_t group) const override {
    return groups_[group].params;
  }
  double& group_lr(size_t group) override { return groups_[group].options.lr; }
  const double& group_lr(size_t group) const override { return groups_[group].options.lr; }

 private:
  std::vector<Group> groups_;
  std::vector<State> state_;
  Options defaults_;
  Validate validate_;
};

}  // namespace tg::optim
