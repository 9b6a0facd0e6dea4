// The members of an options or state struct and their names, read from the struct itself
// (tapegrad/optim/members.hpp): the one list the state dict walks, and the buffers among them
// that update_elements hands a rule.
#include <doctest/doctest.h>

#include <string>
#include <tapegrad/optim.hpp>
#include <tapegrad/optim/elementwise.hpp>
#include <tapegrad/optim/members.hpp>
#include <vector>

namespace {

struct EightMembers {
  double lr = 0.5;
  std::pair<double, double> betas = {0.9, 0.99};
  bool flag = true;
  int64_t count = 3;
  double second_value = 2;
  double _leading_underscore = 0;
  double digit9 = 0;
  double last = 7;
};

template <class Struct>
std::vector<std::string> names_of(Struct& object) {
  std::vector<std::string> names;
  tg::optim::detail::for_each_member(
      object, [&](std::string_view name, auto&) { names.emplace_back(name); });
  return names;
}

template <class Options>
std::vector<std::string> option_names() {
  Options options;
  return names_of(options);
}

}  // namespace

TEST_CASE("a struct's members are counted and named in declaration order") {
  EightMembers object;
  CHECK(tg::optim::detail::field_count<EightMembers>() == 8);
  CHECK(names_of(object) == std::vector<std::string>{"lr", "betas", "flag", "count", "second_value",
                                                     "_leading_underscore", "digit9", "last"});
  const EightMembers& constant = object;
  CHECK(names_of(constant).size() == 8);
}

TEST_CASE("for_each_member hands out the members themselves, not copies") {
  EightMembers object;
  tg::optim::detail::for_each_member(object, [](std::string_view name, auto& member) {
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(member)>, double>)
      if (name == "last") member = -1;
  });
  CHECK(object.last == -1);
  CHECK(object.lr == 0.5);
}

TEST_CASE("every optimizer's options are named as PyTorch 1.13 names its param_group entries") {
  using V = std::vector<std::string>;
  CHECK(option_names<tg::optim::SGDOptions>() ==
        V{"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"});
  CHECK(option_names<tg::optim::AdamOptions>() ==
        V{"lr", "betas", "eps", "weight_decay", "amsgrad"});
  CHECK(option_names<tg::optim::AdamWOptions>() ==
        V{"lr", "betas", "eps", "weight_decay", "amsgrad"});
  CHECK(option_names<tg::optim::RMSpropOptions>() ==
        V{"lr", "alpha", "eps", "weight_decay", "momentum", "centered"});
  CHECK(option_names<tg::optim::AdagradOptions>() ==
        V{"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"});
  CHECK(option_names<tg::optim::AdamaxOptions>() ==
        V{"lr", "betas", "eps", "weight_decay", "maximize"});
  CHECK(option_names<tg::optim::AdadeltaOptions>() ==
        V{"lr", "rho", "eps", "weight_decay", "maximize"});
  CHECK(option_names<tg::optim::RAdamOptions>() == V{"lr", "betas", "eps", "weight_decay"});
  CHECK(option_names<tg::optim::NAdamOptions>() ==
        V{"lr", "betas", "eps", "weight_decay", "momentum_decay"});
}

namespace {
struct MixedState {
  tg::optim::Buffer<"first"> first;
  tg::optim::Step step;
  tg::Tensor unnamed;  // a plain tensor is not a state buffer
  tg::optim::Scalar<"scale"> scale;
  tg::optim::Buffer<"second"> second;
};
}  // namespace

TEST_CASE("update_elements with a state hands the rule its buffers in declaration order") {
  tg::Tensor param = tg::tensor({1.0, 2.0}, {.dtype = tg::f64});
  const tg::Tensor grad = tg::tensor({10.0, 20.0}, {.dtype = tg::f64});
  MixedState state;
  state.second = tg::tensor({100.0, 200.0}, {.dtype = tg::f64});
  tg::optim::update_elements("Mixed", param, grad, state, [](auto& p, auto g, auto& a, auto& b) {
    a += g;  // first starts as zeros
    b -= p;  // second keeps what it held
    p = a + b;
  });
  CHECK(state.first.to_vector() == std::vector<double>{10.0, 20.0});
  CHECK(state.second.to_vector() == std::vector<double>{99.0, 198.0});
  CHECK(param.to_vector() == std::vector<double>{109.0, 218.0});
  CHECK_FALSE(state.unnamed.defined());
  CHECK(state.step == 0);
}
