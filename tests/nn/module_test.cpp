// tg::nn::Module: registration, dotted names, aliasing, train/eval, zero_grad, to(dtype), moves.
#include <map>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>
#include <type_traits>

#include "support/testing.hpp"

namespace {

// A two-layer model written as a user would: parameters and submodules registered by name.
struct TwoLayer : tg::nn::Module {
  tg::Tensor scale = register_parameter("scale", tg::ones({2}));
  tg::nn::Linear& fc1 = register_module("fc1", tg::nn::Linear(3, 2));
  tg::nn::Linear& fc2 = register_module("fc2", tg::nn::Linear(2, 1, false));
  tg::Tensor forward(const tg::Tensor& x) override { return fc2(tg::relu(fc1(x)) * scale); }
};

struct Outer : tg::nn::Module {
  TwoLayer& inner = register_module("inner", TwoLayer());
  tg::nn::Dropout& drop = register_module("drop", tg::nn::Dropout(0.5));
};

std::vector<std::string> names(const tg::nn::Module& module) {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : module.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("modules are movable but never copyable, so a copy cannot share parameters") {
  static_assert(!std::is_copy_constructible_v<tg::nn::Module>);
  static_assert(!std::is_copy_assignable_v<tg::nn::Linear>);
  static_assert(!std::is_copy_constructible_v<tg::nn::Sequential>);
  static_assert(std::is_move_constructible_v<tg::nn::Linear>);
  static_assert(std::is_move_constructible_v<tg::nn::Sequential>);
  static_assert(std::is_move_constructible_v<TwoLayer>);
  CHECK(true);
}

TEST_CASE("named_parameters lists own parameters first, then submodules', with dotted names") {
  TwoLayer model;
  CHECK(names(model) == std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "fc2.weight"});
  Outer outer;
  CHECK(names(outer) == std::vector<std::string>{"inner.scale", "inner.fc1.weight",
                                                 "inner.fc1.bias", "inner.fc2.weight"});
  CHECK(outer.parameters().size() == 4);
  const auto children = outer.named_children();
  REQUIRE(children.size() == 2);
  CHECK(children[0].first == "inner");
  CHECK(children[1].first == "drop");
}

TEST_CASE("parameters alias the module's tensors and require grad") {
  TwoLayer model;
  const std::vector<tg::Tensor> params = model.parameters();
  REQUIRE(params.size() == 4);
  for (const tg::Tensor& p : params) CHECK(p.requires_grad());
  tg::Tensor weight = params[1];
  weight.fill_(0.25);
  TG_CHECK_VALUES(model.fc1.weight, {0.25, 0.25, 0.25, 0.25, 0.25, 0.25});
  CHECK(params[0].impl() == model.scale.impl());
}

TEST_CASE("a tensor registered twice is listed once") {
  struct Tied : tg::nn::Module {
    tg::nn::Linear& a = register_module("a", tg::nn::Linear(2, 2));
    tg::Tensor tied = register_parameter("tied", a.weight);
  };
  Tied model;
  CHECK(names(model) == std::vector<std::string>{"tied", "a.bias"});
}

TEST_CASE("train and eval switch the whole tree") {
  Outer outer;
  CHECK(outer.is_training());
  outer.eval();
  CHECK(!outer.is_training());
  CHECK(!outer.inner.is_training());
  CHECK(!outer.inner.fc1.is_training());
  CHECK(!outer.drop.is_training());
  outer.train();
  CHECK(outer.drop.is_training());
  outer.train(false);
  CHECK(!outer.inner.fc2.is_training());
}

TEST_CASE("zero_grad drops every accumulated gradient") {
  TwoLayer model;
  model(tg::ones({4, 3})).sum().backward();
  for (const tg::Tensor& p : model.parameters()) CHECK(p.grad().defined());
  model.zero_grad();
  for (const tg::Tensor& p : model.parameters()) CHECK(!p.grad().defined());
}

TEST_CASE("to(dtype) converts every parameter in place, keeping values and handles") {
  TwoLayer model;
  tg::Tensor handle = model.fc1.weight;
  const std::vector<double> before = handle.to_vector();
  model.to(tg::f64);
  for (const tg::Tensor& p : model.parameters()) {
    CHECK(p.dtype() == tg::f64);
    CHECK(p.requires_grad());
  }
  CHECK(handle.dtype() == tg::f64);
  CHECK(handle.to_vector() == before);  // f32 values are exact in f64
  CHECK(model(tg::ones({1, 3}, {.dtype = tg::f64})).dtype() == tg::f64);
  model.to(tg::f32);
  CHECK(handle.dtype() == tg::f32);
  CHECK(handle.to_vector() == before);
  TG_CHECK_ERROR(model.to(tg::i64), "to", "i64");
}

TEST_CASE("moving a module keeps its parameters and its references to submodules valid") {
  TwoLayer original;
  original.fc1.weight.fill_(0.5);
  const void* weight_storage = original.fc1.weight.impl();
  TwoLayer moved(std::move(original));
  CHECK(moved.fc1.weight.impl() == weight_storage);
  CHECK(moved.named_parameters()[1].second.impl() == weight_storage);
  CHECK(moved(tg::ones({1, 3})).shape() == tg::Shape{1, 1});
}

TEST_CASE("register_module returns the owned module, used without ->") {
  tg::nn::Module holder;
  tg::nn::Linear& fc = holder.register_module("fc", tg::nn::Linear(2, 3));
  CHECK(fc(tg::ones({1, 2})).shape() == tg::Shape{1, 3});
  CHECK(names(holder) == std::vector<std::string>{"fc.weight", "fc.bias"});
  CHECK(holder.parameters()[0].impl() == fc.weight.impl());
}

TEST_CASE("bad registrations and a missing forward throw tg::Error naming the call") {
  tg::nn::Module module;
  module.register_parameter("w", tg::zeros({2}));
  TG_CHECK_ERROR(module.register_parameter("w", tg::zeros({2})), "register_parameter", "\"w\"");
  TG_CHECK_ERROR(module.register_parameter("a.b", tg::zeros({2})), "register_parameter", "a.b");
  TG_CHECK_ERROR(module.register_parameter("", tg::zeros({2})), "register_parameter");
  TG_CHECK_ERROR(module.register_parameter("i", tg::zeros({2}, {.dtype = tg::i64})),
                 "register_parameter", "i64");
  TG_CHECK_ERROR(module.register_parameter("u", tg::Tensor()), "register_parameter", "undefined");
  const tg::Tensor leaf = tg::ones({2}, {.requires_grad = true});
  TG_CHECK_ERROR(module.register_parameter("n", leaf * 2.0), "register_parameter", "leaf");
  TG_CHECK_ERROR(module.register_module("w", tg::nn::ReLU()), "register_module", "\"w\"");
  TG_CHECK_ERROR(module(tg::zeros({2, 3})), "forward", "not implemented", "[2, 3]");
}

TEST_CASE("Module::apply visits every submodule, children before parents, then the module") {
  tg::nn::Sequential model(tg::nn::Linear(2, 3),
                           tg::nn::Sequential(tg::nn::ReLU(), tg::nn::Linear(3, 1)));
  std::vector<std::string> visited;
  model.apply([&](tg::nn::Module& m) {
    visited.push_back(tg::autograd::detail::demangle(typeid(m).name()));
  });
  CHECK(visited == std::vector<std::string>{"tg::nn::Linear", "tg::nn::ReLU", "tg::nn::Linear",
                                            "tg::nn::Sequential", "tg::nn::Sequential"});
  // the usual use: re-initialise every Linear
  model.apply([](tg::nn::Module& m) {
    if (auto* linear = dynamic_cast<tg::nn::Linear*>(&m))
      tg::nn::init::constant_(linear->bias, 0.5);
  });
  for (const auto& [name, tensor] : model.named_parameters())
    if (name.ends_with("bias")) CHECK(tensor.to_vector()[0] == 0.5);
}

TEST_CASE("Module::named_modules lists the module and its submodules, parents first") {
  tg::nn::Sequential model(tg::nn::Linear(2, 3),
                           tg::nn::Sequential(tg::nn::ReLU(), tg::nn::Linear(3, 1)));
  std::vector<std::string> names;
  for (const auto& [name, module] : model.named_modules()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"", "0", "1", "1.0", "1.1"});
}

TEST_CASE("Module::num_parameters counts elements, trainable ones on request") {
  tg::nn::Sequential model(tg::nn::Linear(2, 3), tg::nn::ReLU(), tg::nn::Linear(3, 1));
  CHECK(model.num_parameters() == 2 * 3 + 3 + 3 * 1 + 1);
  model.at<tg::nn::Linear>(0).weight.set_requires_grad(false);
  CHECK(model.num_parameters() == 13);
  CHECK(model.num_parameters(/*trainable_only=*/true) == 7);
  CHECK(tg::nn::ReLU().num_parameters() == 0);
}

namespace {

// A model with a float and an integer buffer besides its parameters.
struct WithBuffers : tg::nn::Module {
  tg::nn::Linear& fc = register_module("fc", tg::nn::Linear(2, 2));
  tg::Tensor running = register_buffer("running", tg::tensor({0.5, -0.5}));
  tg::Tensor count = register_buffer("count", tg::tensor({3}, {.dtype = tg::i64}));
};

struct Nested : tg::nn::Module {
  WithBuffers& block = register_module("block", WithBuffers());
  tg::Tensor gain = register_parameter("gain", tg::ones({1}));
};

// Every parameter's and buffer's values and dtype, by name: equal means bit-identical for
// these small f32/i64 values (to_vector is exact for both).
std::map<std::string, std::pair<tg::DType, std::vector<double>>> snapshot(const tg::nn::Module& m) {
  std::map<std::string, std::pair<tg::DType, std::vector<double>>> out;
  for (const auto& [name, tensor] : m.state_dict())
    out[name] = {tensor.dtype(), tensor.to_vector()};
  return out;
}

tg::StateDict fresh_state(const tg::nn::Module& m, double offset) {
  tg::StateDict state;
  for (const auto& [name, tensor] : m.state_dict())
    state[name] = (tensor + offset).to(tensor.dtype()).detach();  // i64 + double is f32
  return state;
}

}  // namespace

TEST_CASE("state_dict holds every parameter and buffer under its dotted name, aliasing them") {
  Nested model;
  const tg::StateDict state = model.state_dict();
  std::vector<std::string> keys;
  for (const auto& [name, tensor] : state) keys.push_back(name);
  CHECK(keys == std::vector<std::string>{"block.count", "block.fc.bias", "block.fc.weight",
                                         "block.running", "gain"});
  CHECK(state.at("block.running").impl() == model.block.running.impl());
  CHECK(state.at("block.fc.weight").impl() == model.block.fc.weight.impl());
  CHECK(state.at("block.count").dtype() == tg::i64);
}

TEST_CASE("load_state_dict writes into the existing tensors, so an optimizer's handles see it") {
  Nested model;
  const std::vector<tg::Tensor> handles = model.parameters();  // what an optimizer holds
  const float* weight_storage = model.block.fc.weight.data<float>();
  tg::StateDict state;
  state["gain"] = tg::tensor({2.0});
  state["block.fc.weight"] = tg::tensor({1, 2, 3, 4}, {2, 2});
  state["block.fc.bias"] = tg::tensor({-1, 1});
  state["block.running"] = tg::tensor({0.25, 0.75});
  state["block.count"] = tg::tensor({9}, {.dtype = tg::i64});
  model.load_state_dict(state);
  CHECK(model.block.fc.weight.data<float>() == weight_storage);
  TG_CHECK_VALUES(model.block.fc.weight, {1, 2, 3, 4});
  TG_CHECK_VALUES(model.block.running, {0.25, 0.75});
  TG_CHECK_VALUES(model.block.count, {9});
  CHECK(model.block.fc.weight.requires_grad());
  CHECK(handles[0].impl() == model.gain.impl());
  TG_CHECK_VALUES(handles[0], {2.0});
}

TEST_CASE("load_state_dict converts between f32 and f64 on load") {
  Nested model;
  tg::StateDict state = fresh_state(model, 0.0);
  state["block.fc.bias"] = tg::tensor({0.1, 0.3}, {.dtype = tg::f64});
  model.load_state_dict(state);
  CHECK(model.block.fc.bias.dtype() == tg::f32);
  CHECK(model.block.fc.bias.data<float>()[0] == 0.1f);  // rounded to the nearest float
  CHECK(model.block.fc.bias.data<float>()[1] == 0.3f);
}

TEST_CASE("strict loading needs exactly the module's names; non-strict loads what matches") {
  Nested model;
  SUBCASE("strict: a missing entry") {
    tg::StateDict state = fresh_state(model, 1.0);
    state.erase("block.running");
    const auto before = snapshot(model);
    TG_CHECK_ERROR(model.load_state_dict(state), "load_state_dict", "missing entry",
                   "\"block.running\"", "f32 [2]");
    CHECK(snapshot(model) == before);
  }
  SUBCASE("strict: an unexpected entry") {
    tg::StateDict state = fresh_state(model, 1.0);
    state["block.extra"] = tg::zeros({3});
    const auto before = snapshot(model);
    TG_CHECK_ERROR(model.load_state_dict(state), "load_state_dict", "unexpected entry",
                   "\"block.extra\"", "f32 [3]");
    CHECK(snapshot(model) == before);
  }
  SUBCASE("non-strict: missing entries are kept and extra ones ignored") {
    const std::vector<double> weight = model.block.fc.weight.to_vector();
    tg::StateDict state;
    state["gain"] = tg::tensor({4.0});
    state["block.count"] = tg::tensor({-2}, {.dtype = tg::i64});
    state["not.in.model"] = tg::zeros({7});
    model.load_state_dict(state, /*strict=*/false);
    TG_CHECK_VALUES(model.gain, {4});
    TG_CHECK_VALUES(model.block.count, {-2});
    CHECK(model.block.fc.weight.to_vector() == weight);
  }
}

TEST_CASE("a bad entry leaves every parameter and buffer as it was (all or nothing)") {
  Nested model;
  // "gain" sorts last, so the good entries before it would be written first by a naive loop.
  tg::StateDict state = fresh_state(model, 1.0);
  const auto before = snapshot(model);
  SUBCASE("a wrong shape") {
    state["gain"] = tg::ones({2});
    TG_CHECK_ERROR(model.load_state_dict(state), "\"gain\"", "f32 [2]", "f32 [1]");
  }
  SUBCASE("an integer tensor for a float parameter") {
    state["gain"] = tg::tensor({1}, {.dtype = tg::i64});
    TG_CHECK_ERROR(model.load_state_dict(state), "\"gain\"", "i64 [1]", "f32 [1]");
  }
  SUBCASE("a float tensor for an integer buffer") {
    state["block.count"] = tg::tensor({1.0});
    TG_CHECK_ERROR(model.load_state_dict(state), "\"block.count\"", "f32 [1]", "i64 [1]");
  }
  SUBCASE("an undefined tensor") {
    state["gain"] = tg::Tensor();
    TG_CHECK_ERROR(model.load_state_dict(state), "\"gain\"", "undefined");
  }
  SUBCASE("non-strict still checks the entries it would load") {
    state["gain"] = tg::ones({3});
    CHECK_THROWS_AS(model.load_state_dict(state, false), tg::Error);
  }
  CHECK(snapshot(model) == before);
}

TEST_CASE("loading a state whose tensors are the module's own, crossed, loads the old values") {
  // {a: b's tensor, b: a's tensor}: copying a first would overwrite b's source.
  tg::nn::Module model;
  tg::Tensor a = model.register_parameter("a", tg::tensor({1, 2}));
  tg::Tensor b = model.register_parameter("b", tg::tensor({3, 4}));
  model.load_state_dict({{"a", b}, {"b", a}});
  TG_CHECK_VALUES(a, {3, 4});
  TG_CHECK_VALUES(b, {1, 2});
  model.load_state_dict(model.state_dict());  // its own state: a no-op
  TG_CHECK_VALUES(a, {3, 4});
}

TEST_CASE("parameters print under their names in the tape without set_name") {
  struct Block : tg::nn::Module {
    tg::nn::Linear& fc1 = register_module("fc1", tg::nn::Linear(2, 3));
  };
  struct Net : tg::nn::Module {
    Block& block = register_module("block", Block());
    tg::nn::Linear& fc2 = register_module("fc2", tg::nn::Linear(3, 1));
    tg::Tensor scale = register_parameter("scale", tg::ones({1}));
    tg::Tensor own = register_parameter("own", tg::ones({1}).set_name("kept"));
  };
  Net net;
  CHECK(net.fc2.weight.name() == "fc2.weight");
  CHECK(net.block.fc1.bias.name() == "block.fc1.bias");
  CHECK(net.scale.name() == "scale");
  CHECK(net.own.name() == "kept");  // a name the user gave is not replaced
  for (const auto& [name, p] : net.named_parameters())
    if (name != "own") CHECK(p.name() == name);
  const tg::Tensor out = net.fc2(net.block.fc1(tg::ones({1, 2}))) * net.scale;
  const std::string tape = tg::autograd::format_tape(out);
  CAPTURE(tape);
  CHECK(tg::testing::contains(tape, "leaf block.fc1.weight  [3, 2] f32"));
  CHECK(tg::testing::contains(tape, "leaf fc2.bias  [1] f32"));
  CHECK(tg::testing::contains(tg::autograd::to_dot(out), "leaf fc2.weight"));
}
