// The Optimizer base: zero_grad, skipped parameters, parameter groups, lr access, state across
// steps, polymorphic use and parameter-list errors.
#include <doctest/doctest.h>

#include <memory>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim.hpp>

#include "support/testing.hpp"

using tg::testing::exact;
using tg::testing::param;
using tg::testing::set_grad;

TEST_CASE("zero_grad leaves every gradient undefined") {
  tg::Tensor a = param({1.0, 2.0});
  tg::Tensor b = param({3.0});
  tg::optim::SGD opt({a, b}, {.lr = 0.1});
  (a.sum() + b.sum()).backward();
  REQUIRE(a.grad().defined());
  REQUIRE(b.grad().defined());
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
  CHECK_FALSE(b.grad().defined());
  opt.step();  // nothing has a gradient: nothing moves
  CHECK(a.to_vector() == std::vector<double>{1.0, 2.0});
  CHECK(b.item() == 3.0);
}

TEST_CASE("a parameter without a gradient is left untouched, value and state") {
  tg::Tensor used = param({1.0});
  tg::Tensor unused = param({5.0});
  SUBCASE("SGD with momentum") {
    tg::optim::SGD opt({used, unused}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
    for (int k = 0; k < 3; ++k) {
      set_grad(used, {1.0});
      opt.step();
    }
    CHECK(unused.item() == 5.0);  // weight decay would have moved it had it been applied
    CHECK_FALSE(opt.state(1).momentum_buffer.defined());
    CHECK(opt.state(0).momentum_buffer.defined());
  }
  SUBCASE("RMSprop") {
    tg::optim::RMSprop opt({used, unused}, {.momentum = 0.5, .centered = true});
    set_grad(used, {1.0});
    opt.step();
    CHECK(unused.item() == 5.0);
    CHECK(opt.state(1).step == 0);
    CHECK_FALSE(opt.state(1).square_avg.defined());
  }
  SUBCASE("Adagrad") {
    tg::optim::Adagrad opt({used, unused});
    set_grad(used, {1.0});
    opt.step();
    CHECK(unused.item() == 5.0);
    CHECK(opt.state(1).step == 0);
  }
  SUBCASE("AdamW, whose decay needs no gradient but is skipped with the parameter") {
    tg::optim::AdamW opt({used, unused}, {.weight_decay = 0.5});
    set_grad(used, {1.0});
    opt.step();
    CHECK(unused.item() == 5.0);
    CHECK(opt.state(1).step == 0);
  }
}

TEST_CASE("parameter groups each have their own learning rate and options") {
  tg::Tensor a = param({1.0});
  tg::Tensor b = param({1.0});
  tg::optim::SGD opt({{.params = {a}, .options = {.lr = 0.1}},
                      {.params = {b}, .options = {.lr = 0.01, .momentum = 0.9}}});
  REQUIRE(opt.param_groups().size() == 2);
  CHECK(opt.param_groups()[0].lr == 0.1);
  CHECK(opt.param_groups()[1].lr == 0.01);
  CHECK(opt.options(1).momentum == 0.9);
  for (int k = 0; k < 2; ++k) {
    set_grad(a, {1.0});
    set_grad(b, {1.0});
    opt.step();
  }
  // a: 1 − 0.1 − 0.1 = 0.8;  b: b1 = 1, b2 = 0.9 + 1 = 1.9: 1 − 0.01 − 0.019 = 0.971
  CHECK(a.item() == exact(0.8));
  CHECK(b.item() == exact(0.971));

  SUBCASE("lr() reads the first group, set_lr() sets every group") {
    CHECK(opt.lr() == 0.1);
    opt.set_lr(0.5);
    CHECK(opt.param_groups()[0].lr == 0.5);
    CHECK(opt.param_groups()[1].lr == 0.5);
    TG_CHECK_ERROR(opt.set_lr(-2), "SGD: invalid learning rate -2");
  }
  SUBCASE("a group's lr can be changed on its own") {
    opt.param_groups()[1].lr = 0;
    set_grad(a, {1.0});
    set_grad(b, {1.0});
    opt.step();
    CHECK(a.item() == exact(0.7));
    CHECK(b.item() == exact(0.971));  // lr 0: the buffer moves, the weight does not
  }
}

TEST_CASE("parameters() lists every group's parameters in order") {
  tg::Tensor a = param({1.0});
  tg::Tensor b = param({2.0});
  tg::Tensor c = param({3.0});
  tg::optim::Adam opt({{.params = {a, b}, .options = {}}, {.params = {c}, .options = {}}});
  const auto params = opt.parameters();
  REQUIRE(params.size() == 3);
  CHECK(params[0].impl() == a.impl());
  CHECK(params[1].impl() == b.impl());
  CHECK(params[2].impl() == c.impl());
  CHECK(std::string(opt.name()) == "Adam");
}

TEST_CASE("state survives across steps and zero_grad") {
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1, .momentum = 0.5});
  set_grad(w, {2.0});
  opt.step();  // b = 2
  opt.zero_grad();
  CHECK(opt.state(0).momentum_buffer.item() == exact(2.0));
  set_grad(w, {2.0});
  opt.step();  // b = 0.5·2 + 2 = 3
  CHECK(opt.state(0).momentum_buffer.item() == exact(3.0));
  CHECK(w.item() == exact(1 - 0.2 - 0.3));
}

TEST_CASE("any optimizer can be driven through an Optimizer reference") {
  auto train = [](tg::optim::Optimizer& opt, tg::Tensor& w) {
    for (int k = 0; k < 200; ++k) {
      opt.zero_grad();
      (w * w).sum().backward();  // minimum at 0
      opt.step();
    }
  };
  std::vector<
      std::pair<std::string, std::function<std::unique_ptr<tg::optim::Optimizer>(tg::Tensor)>>>
      makers = {
          {"SGD",
           [](tg::Tensor w) {
             return std::make_unique<tg::optim::SGD>(std::vector<tg::Tensor>{w},
                                                     tg::optim::SGDOptions{.lr = 0.1});
           }},
          {"Adagrad",
           [](tg::Tensor w) {
             return std::make_unique<tg::optim::Adagrad>(std::vector<tg::Tensor>{w},
                                                         tg::optim::AdagradOptions{.lr = 0.5});
           }},
          {"RMSprop",
           [](tg::Tensor w) {
             return std::make_unique<tg::optim::RMSprop>(std::vector<tg::Tensor>{w},
                                                         tg::optim::RMSpropOptions{.lr = 0.01});
           }},
          {"Adam",
           [](tg::Tensor w) {
             return std::make_unique<tg::optim::Adam>(std::vector<tg::Tensor>{w},
                                                      tg::optim::AdamOptions{.lr = 0.05});
           }},
          {"AdamW",
           [](tg::Tensor w) {
             return std::make_unique<tg::optim::AdamW>(std::vector<tg::Tensor>{w},
                                                       tg::optim::AdamWOptions{.lr = 0.05});
           }},
      };
  for (auto& [name, make] : makers) {
    CAPTURE(name);
    tg::Tensor w = param({1.0, -1.0});
    auto opt = make(w);
    CHECK(std::string(opt->name()) == name);
    train(*opt, w);
    for (double v : w.to_vector()) CHECK(std::abs(v) < 0.05);
  }
}

TEST_CASE("f32 parameters are updated in f32") {
  tg::Tensor w = param({1.0, 2.0}, tg::f32);
  tg::optim::SGD opt({w}, {.lr = 0.5, .momentum = 0.5});
  set_grad(w, {1.0, -1.0});
  opt.step();
  CHECK(w.dtype() == tg::f32);
  CHECK(opt.state(0).momentum_buffer.dtype() == tg::f32);
  CHECK(w.to_vector() == std::vector<double>{0.5, 2.5});
}

TEST_CASE("parameters that do not require grad are accepted and skipped") {
  tg::Tensor frozen = tg::tensor({1.0}, {.dtype = tg::f64});
  tg::optim::SGD opt({frozen}, {.lr = 0.1});
  opt.step();
  CHECK(frozen.item() == 1.0);
}

TEST_CASE("bad parameter lists throw tg::Error naming the problem") {
  TG_CHECK_ERROR(tg::optim::SGD(std::vector<tg::Tensor>{}), "SGD: got an empty parameter list");
  TG_CHECK_ERROR(tg::optim::Adam(std::vector<tg::Tensor>{}), "Adam: got an empty");
  TG_CHECK_ERROR(tg::optim::SGD({tg::arange(3)}), "i64 [3]");
  TG_CHECK_ERROR(tg::optim::SGD({tg::Tensor()}), "undefined");
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::SGD({w, w}), "more than once");
  TG_CHECK_ERROR(tg::optim::SGD({{.params = {w}, .options = {}}, {.params = {w}, .options = {}}}),
                 "more than once");
  TG_CHECK_ERROR(tg::optim::SGD({{.params = {w}, .options = {}},
                                 {.params = {param({2.0})}, .options = {.lr = -0.5}}}),
                 "invalid learning rate -0.5");
}
