// The member definitions of OptimizerBase: group checks, the step loop and the state dict.
// Each optimizer's source includes this file and instantiates OptimizerBase for its types.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <utility>
#include <variant>

#include "common.hpp"
#include "state_io.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

template <class Options, class State>
OptimizerBase<Options, State>::OptimizerBase(const char* name, std::vector<Group> groups,
                                             Validate validate)
    : Optimizer(name), validate_(validate) {
  bool any = false;
  for (const Group& group : groups) any = any || !group.params.empty();
  if (!any) throw Error(fmt::format("{}: got an empty parameter list", name));
  defaults_ = groups.front().options;
  for (Group& group : groups) add_param_group(std::move(group));
}

template <class Options, class State>
void OptimizerBase<Options, State>::add_param_group(std::vector<Tensor> params) {
  add_param_group(Group{std::move(params), defaults_});
}

template <class Options, class State>
void OptimizerBase<Options, State>::add_param_group(Group group) {
  validate_(name(), group.options);
  const size_t g = groups_.size();
  std::vector<const void*> seen;
  for (const Tensor& param : parameters()) seen.push_back(param.impl());
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& param = group.params[i];
    if (!param.defined())
      throw Error(fmt::format("{}: parameter {} of group {} is an undefined tensor", name(), i, g));
    if (!is_floating(param.dtype()))
      throw Error(fmt::format(
          "{}: parameter {} of group {} is {} {}; only f32 and f64 tensors can be optimized",
          name(), i, g, dtype_name(param.dtype()), format_shape(param.shape())));
    // An op's result is recomputed from the leaves on every forward, so an update written into
    // it would never reach the model: PyTorch refuses it too ("can't optimize a non-leaf Tensor").
    if (!param.is_leaf())
      throw Error(fmt::format(
          "{}: can't optimize a non-leaf tensor: parameter {} of group {} ({} {}) is the result "
          "of an op; pass the leaf it was computed from (or a .detach()ed copy)",
          name(), i, g, dtype_name(param.dtype()), format_shape(param.shape())));
    if (std::find(seen.begin(), seen.end(), param.impl()) != seen.end())
      throw Error(fmt::format(
          "{}: a parameter appears more than once in the parameter list (parameter {} of group "
          "{}, shape {})",
          name(), i, g, format_shape(param.shape())));
    seen.push_back(param.impl());
  }
  state_.resize(state_.size() + group.params.size());
  groups_.push_back(std::move(group));
}

template <class Options, class State>
Tensor OptimizerBase<Options, State>::step(std::function<Tensor()> closure) {
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
      static const std::vector<Field<State>> state_fields = State::fields();  // built once
      for (const Field<State>& field : state_fields)
        if (auto* member = std::get_if<Tensor State::*>(&field.member)) {
          Tensor& buffer = state.*(*member);
          if (buffer.defined() && buffer.dtype() != param.dtype())
            buffer = buffer.to(param.dtype());
        }
      update(param, grad, state, group.options);
      param.mark_modified();  // a graph recorded before the step must not read the new values
    }
  }
  return loss;
}

template <class Options, class State>
StateDict OptimizerBase<Options, State>::state_dict() const {
  StateDict dict;
  detail::write(dict, "type", std::string(name()));
  int64_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const std::string prefix = fmt::format("param_groups.{}.", g);
    for (const Field<Options>& field : Options::fields())
      std::visit(
          [&](auto member) {
            detail::write(dict, prefix + field.name, groups_[g].options.*member);
          },
          field.member);
    Tensor params =
        tg::zeros({static_cast<int64_t>(groups_[g].params.size())}, {.dtype = DType::i64});
    for (int64_t& i : std::span(params.data<int64_t>(), groups_[g].params.size())) i = index++;
    dict[prefix + "params"] = params;
  }
  for (size_t i = 0; i < state_.size(); ++i) {
    bool set = false;
    for (const Field<State>& field : State::fields())
      std::visit([&](auto member) { set = set || detail::is_set(state_[i].*member); },
                 field.member);
    if (!set) continue;
    const std::string prefix = fmt::format("state.{}.", i);
    for (const Field<State>& field : State::fields())
      std::visit([&](auto member) { detail::write(dict, prefix + field.name, state_[i].*member); },
                 field.member);
  }
  return dict;
}

template <class Options, class State>
void OptimizerBase<Options, State>::load_state_dict(const StateDict& dict) {
  // Everything is read into copies and checked; only then are the copies swapped in.
  detail::Reader reader(dict, name());
  reader.expect_string("type", name());
  std::vector<Group> groups = groups_;
  const std::vector<Tensor> params = parameters();
  int64_t flat_size = 0;
  for (const Tensor& param : params) flat_size += param.numel();
  int64_t index = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::string prefix = fmt::format("param_groups.{}.", g);
    for (const Field<Options>& field : Options::fields())
      std::visit(
          [&](auto member) { reader.read(prefix + field.name, groups[g].options.*member, {}); },
          field.member);
    const std::string key = prefix + "params";
    Tensor indices;
    reader.read(key, indices,
                {.like = tg::zeros({static_cast<int64_t>(groups[g].params.size())},
                                   {.dtype = DType::i64})});
    if (!indices.defined()) reader.fail(fmt::format("missing entry {}", key));
    for (int64_t k = 0; k < indices.numel(); ++k, ++index)
      if (indices.data<int64_t>()[k] != index)
        reader.fail(fmt::format("entry {} lists parameter {} at position {}, expected {}", key,
                                indices.data<int64_t>()[k], k, index));
    try {
      validate_(name(), groups[g].options);
    } catch (const Error& error) {
      reader.fail(fmt::format("the options of param_groups.{}: {}", g, error.what()));
    }
  }
  std::vector<State> state(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string prefix = fmt::format("state.{}.", i);
    if (!reader.has_prefix(prefix)) continue;
    const detail::Expected expected{.like = params[i], .flat_size = flat_size};
    for (const Field<State>& field : State::fields())
      std::visit([&](auto member) { reader.read(prefix + field.name, state[i].*member, expected); },
                 field.member);
  }
  reader.check_all_read();
  if (const std::string problem = check_loaded(state); !problem.empty()) reader.fail(problem);
  groups_ = std::move(groups);
  state_ = std::move(state);
}

}  // namespace tg::optim
