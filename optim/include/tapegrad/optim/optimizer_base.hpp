// The member definitions of OptimizerBase (group checks, the step loop, the state dict) and
// what an optimizer written on it needs: include this to define an optimizer, in or outside
// the library (see docs/ARCHITECTURE.md, "Adding an optimizer").
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/optim/elementwise.hpp"
#include "tapegrad/optim/members.hpp"
#include "tapegrad/optim/optimizer.hpp"
#include "tapegrad/optim/state.hpp"
#include "tapegrad/optim/state_io.hpp"

namespace tg::optim {

namespace detail {

/// Throws "<optimizer>: invalid <what> <value> (must be <rule>)" unless `ok`.
void require(bool ok, const char* optimizer, const char* what, double value, const char* rule);

/// Adam's checks of betas: each in [0, 1).
void require_betas(const char* optimizer, const std::pair<double, double>& betas);

/// The check of the option PyTorch calls `name` (lr, eps, weight_decay, momentum, alpha,
/// lr_decay, initial_accumulator_value, momentum_decay: >= 0; rho: in [0, 1]); other names
/// are not checked.
void check_option(const char* optimizer, std::string_view name, double value);

/// The checks of an options struct, each member by its name (check_option; betas: each in
/// [0, 1)), as PyTorch's constructors check the same names.
template <class Options>
void check_options(const char* optimizer, const Options& options) {
  for_each_member(options, [&](std::string_view name, const auto& value) {
    using Value = std::remove_cvref_t<decltype(value)>;
    if constexpr (std::is_same_v<Value, double>)
      check_option(optimizer, name, value);
    else if constexpr (std::is_same_v<Value, std::pair<double, double>>)
      if (name == "betas") require_betas(optimizer, value);
  });
}

/// The gradient of `param`, checked to match its dtype and size; undefined when absent.
Tensor checked_grad(const char* optimizer, const Tensor& param);

/// Throws tg::Error naming `optimizer` unless every one of `params` (group `group`) is a
/// defined floating leaf not in `seen` nor listed twice.
void check_new_params(const char* optimizer, size_t group, const std::vector<Tensor>& params,
                      std::vector<const void*> seen);

/// Calls fn(name, value) for each state-dict entry of an options struct or a per-parameter
/// state: its members under their own names (a state's Buffer, Count and Scalar members under
/// the names they carry: a Tensor, an int64_t, a double), or, for a struct of other kinds
/// (LBFGS's lists), the entries of its static fields().
template <class Struct, class Fn>
void for_each_entry(Struct& object, Fn&& fn) {
  using Plain = std::remove_const_t<Struct>;
  if constexpr (requires { Plain::fields(); }) {
    for (const Field<Plain>& field : Plain::fields())
      std::visit([&](auto member) { fn(std::string(field.name), object.*member); }, field.member);
  } else {
    for_each_member(object, [&](std::string_view name, auto& member) {
      using Member = std::remove_cvref_t<decltype(member)>;
      if constexpr (std::is_base_of_v<Tensor, Member>)
        fn(std::string(Member::name),
           static_cast<std::conditional_t<std::is_const_v<Struct>, const Tensor&, Tensor&>>(
               member));
      else if constexpr (requires { Member::name; })
        fn(std::string(Member::name), member.value);
      else
        fn(std::string(name), member);
    });
  }
}

}  // namespace detail

template <class OptionsType, class StateType, FieldName Name>
OptimizerBase<OptionsType, StateType, Name>::OptimizerBase(std::vector<Group> groups)
    : OptimizerBase(Name.text, std::move(groups), detail::check_options<Options>) {}

template <class OptionsType, class StateType, FieldName Name>
OptimizerBase<OptionsType, StateType, Name>::OptimizerBase(const char* name,
                                                           std::vector<Group> groups,
                                                           Validate validate)
    : Optimizer(name), validate_(validate) {
  bool any = false;
  for (const Group& group : groups) any = any || !group.params.empty();
  if (!any) throw Error(std::string(name) + ": got an empty parameter list");
  defaults_ = groups.front().options;
  for (Group& group : groups) add_param_group(std::move(group));
}

template <class OptionsType, class StateType, FieldName Name>
void OptimizerBase<OptionsType, StateType, Name>::add_param_group(std::vector<Tensor> params) {
  add_param_group(Group{std::move(params), defaults_});
}

template <class OptionsType, class StateType, FieldName Name>
void OptimizerBase<OptionsType, StateType, Name>::add_param_group(Group group) {
  validate_(name(), group.options);
  std::vector<const void*> seen;
  for (const Tensor& param : parameters()) seen.push_back(param.impl());
  detail::check_new_params(name(), groups_.size(), group.params, std::move(seen));
  state_.resize(state_.size() + group.params.size());
  groups_.push_back(std::move(group));
}

template <class OptionsType, class StateType, FieldName Name>
Tensor OptimizerBase<OptionsType, StateType, Name>::step(std::function<Tensor()> closure) {
  Tensor loss;
  if (closure) {
    EnableGradGuard enable_grad;
    loss = closure();
  }
  NoGradGuard no_grad;
  size_t index = 0;
  for (Group& group : groups_) {
    for (Tensor param : group.params) {
      State& state = state_[index++];
      const Tensor grad = detail::checked_grad(name(), param);
      if (!grad.defined()) continue;
      // The state follows its parameter when the model is converted (module.to(tg::f64)).
      detail::for_each_entry(state, [&](const std::string&, auto& value) {
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Tensor>)
          if (value.defined() && value.dtype() != param.dtype()) value = value.to(param.dtype());
      });
      update(param, grad, state, group.options);
      param.mark_modified();  // a graph recorded before the step must not read the new values
    }
  }
  return loss;
}

template <class OptionsType, class StateType, FieldName Name>
StateDict OptimizerBase<OptionsType, StateType, Name>::state_dict() const {
  StateDict dict;
  detail::write(dict, "type", std::string(name()));
  int64_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    detail::for_each_entry(groups_[g].options, [&](const std::string& key, const auto& value) {
      detail::write(dict, prefix + key, value);
    });
    Tensor params =
        tg::zeros({static_cast<int64_t>(groups_[g].params.size())}, {.dtype = DType::i64});
    for (int64_t& i : std::span(params.data<int64_t>(), groups_[g].params.size())) i = index++;
    dict[prefix + "params"] = params;
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    bool set = false;
    detail::for_each_entry(state_[i], [&](const std::string&, const auto& value) {
      set = set || detail::is_set(value);
    });
    if (!set) continue;
    const std::string prefix = "state." + std::to_string(i) + ".";
    detail::for_each_entry(state_[i], [&](const std::string& key, const auto& value) {
      detail::write(dict, prefix + key, value);
    });
  }
  return dict;
}

template <class OptionsType, class StateType, FieldName Name>
void OptimizerBase<OptionsType, StateType, Name>::load_state_dict(const StateDict& dict) {
  // Everything is read into copies and checked; only then are the copies swapped in.
  detail::Reader reader(dict, name());
  reader.expect_string("type", name());
  std::vector<Group> groups = groups_;
  const std::vector<Tensor> params = parameters();
  int64_t flat_size = 0;
  for (const Tensor& param : params) flat_size += param.numel();
  int64_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    detail::for_each_entry(groups[g].options, [&](const std::string& key, auto& value) {
      reader.read(prefix + key, value, {});
    });
    const std::string key = prefix + "params";
    Tensor indices;
    reader.read(key, indices,
                {.like = tg::zeros({static_cast<int64_t>(groups[g].params.size())},
                                   {.dtype = DType::i64})});
    if (!indices.defined()) reader.fail("missing entry " + key);
    for (int64_t k = 0; k < indices.numel(); ++k, ++index)
      if (indices.data<int64_t>()[k] != index)
        reader.fail("entry " + key + " lists parameter " +
                    std::to_string(indices.data<int64_t>()[k]) + " at position " +
                    std::to_string(k) + ", expected " + std::to_string(index));
    try {
      validate_(name(), groups[g].options);
    } catch (const Error& error) {
      reader.fail("the options of param_groups." + std::to_string(g) + ": " + error.what());
    }
  }
  std::vector<State> state(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string prefix = "state." + std::to_string(i) + ".";
    if (!reader.has_prefix(prefix)) continue;
    const detail::Expected expected{.like = params[i], .flat_size = flat_size};
    detail::for_each_entry(state[i], [&](const std::string& key, auto& value) {
      reader.read(prefix + key, value, expected);
    });
  }
  reader.check_all_read();
  if (const std::string problem = check_loaded(state); !problem.empty()) reader.fail(problem);
  groups_ = std::move(groups);
  state_ = std::move(state);
}

}  // namespace tg::optim
