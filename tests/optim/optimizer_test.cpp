// The Optimizer base: zero_grad, skipped parameters, parameter groups, lr access, state across
// steps, polymorphic use and parameter-list errors.
#include <doctest/doctest.h>

#include <memory>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim.hpp>
#include <tapegrad/optim/optimizer_base.hpp>
#include <utility>

#include "optimizer_table.hpp"
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

// ---- Generic tests over the optimizer table: every optimizer gets each of them.

namespace {

using tg::testing::optimizer_table;
using tg::testing::training_loss;

std::vector<tg::Tensor> two_params(tg::DType dtype = tg::f64) {
  return {param({0.5, -1.0, 1.5}, dtype), param({2.0, -0.5}, dtype)};
}

std::function<tg::Tensor()> closure_for(tg::optim::Optimizer& opt,
                                        const std::vector<tg::Tensor>& params) {
  return [&opt, params] {
    opt.zero_grad();
    tg::Tensor loss = training_loss(params);
    loss.backward();
    return loss;
  };
}

template <class Group>
concept can_add_to_params = requires(Group group, tg::Tensor t) {
  group.params.push_back(t);
};

template <class Group>
concept can_set_lr = requires(Group group) {
  group.lr = 0.5;
};

}  // namespace

TEST_CASE(
    "every optimizer in the table constructs, steps through Optimizer& with a closure "
    "and returns the closure's loss") {
  for (const auto& row : optimizer_table()) {
    CAPTURE(row.label);
    auto params = two_params();
    std::unique_ptr<tg::optim::Optimizer> opt = row.make(params, row.lr);
    tg::optim::Optimizer& base = *opt;
    CHECK(std::string(base.name()) == row.name);
    CHECK(base.lr() == row.lr);
    REQUIRE(base.parameters().size() == 2);
    const double initial = training_loss(params).item();
    const tg::Tensor first = base.step(closure_for(base, params));
    // The loss of the first evaluation: at the parameters before the step.
    CHECK(first.item() == initial);
    for (int k = 0; k < 30; ++k) base.step(closure_for(base, params));
    CHECK(training_loss(params).item() < initial / 10);
  }
}

TEST_CASE("every optimizer but LBFGS steps without a closure and returns an undefined loss") {
  for (const auto& row : optimizer_table()) {
    CAPTURE(row.label);
    auto params = two_params();
    auto opt = row.make(params, row.lr);
    training_loss(params).backward();
    if (row.needs_closure) {
      const std::string expected = row.name + ": step() needs a closure";
      TG_CHECK_ERROR(opt->step(), expected.c_str());
      continue;
    }
    CHECK_FALSE(opt->step().defined());
    CHECK(params[0].to_vector() != std::vector<double>{0.5, -1.0, 1.5});
  }
}

TEST_CASE("every optimizer's zero_grad leaves the gradients undefined") {
  for (const auto& row : optimizer_table()) {
    CAPTURE(row.label);
    auto params = two_params();
    auto opt = row.make(params, row.lr);
    training_loss(params).backward();
    opt->zero_grad();
    for (const tg::Tensor& p : params) CHECK_FALSE(p.grad().defined());
  }
}

TEST_CASE("every optimizer but LBFGS skips a parameter without a gradient, value and state") {
  for (const auto& row : optimizer_table()) {
    if (row.needs_closure) continue;  // LBFGS counts an absent gradient as zeros, as PyTorch
    CAPTURE(row.label);
    auto params = two_params();
    auto opt = row.make(params, row.lr);
    for (int k = 0; k < 3; ++k) {
      opt->zero_grad();
      training_loss({params[0]}).backward();
      opt->step();
    }
    CHECK(params[1].to_vector() == std::vector<double>{2.0, -0.5});
    const tg::StateDict dict = opt->state_dict();
    bool first_has_state = false;
    for (const auto& [key, value] : dict) {
      CHECK_FALSE(key.starts_with("state.1."));
      first_has_state = first_has_state || key.starts_with("state.0.");
    }
    CHECK(first_has_state == (row.label != "SGD"));  // plain SGD keeps no state
  }
}

TEST_CASE("every optimizer rejects a negative learning rate naming itself") {
  for (const auto& row : optimizer_table()) {
    CAPTURE(row.label);
    const std::string at_construction = row.name + ": invalid learning rate -1";
    TG_CHECK_ERROR(row.make(two_params(), -1), at_construction.c_str());
    auto opt = row.make(two_params(), row.lr);
    const std::string at_set_lr = row.name + ": invalid learning rate -3";
    TG_CHECK_ERROR(opt->set_lr(-3), at_set_lr.c_str());
  }
}

struct NonNegativeOptions {
  double lr = 1, eps = 1, weight_decay = 1, momentum = 1, alpha = 1, lr_decay = 1;
  double initial_accumulator_value = 1, momentum_decay = 1;
};

struct RangeOptions {
  double rho = 1, unknown = -1;
  std::pair<double, double> betas = {0, 0.5};
  int64_t count = -1;
};

TEST_CASE("check_options checks any options struct's members by their PyTorch names") {
  const auto check = [](const auto& options) { tg::optim::detail::check_options("X", options); };
  CHECK_NOTHROW(check(NonNegativeOptions{}));
  CHECK_NOTHROW(check(RangeOptions{}));  // an unknown name and a non-double member: unchecked
  TG_CHECK_ERROR(check(NonNegativeOptions{.lr = -1}), "X: invalid learning rate -1 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.eps = -2}), "X: invalid eps -2 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.weight_decay = -3}),
                 "X: invalid weight_decay -3 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.momentum = -4}),
                 "X: invalid momentum -4 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.alpha = -5}), "X: invalid alpha -5 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.lr_decay = -6}),
                 "X: invalid lr_decay -6 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.initial_accumulator_value = -7}),
                 "X: invalid initial_accumulator_value -7 (must be >= 0)");
  TG_CHECK_ERROR(check(NonNegativeOptions{.momentum_decay = -8}),
                 "X: invalid momentum_decay -8 (must be >= 0)");
  TG_CHECK_ERROR(check(RangeOptions{.rho = 1.5}), "X: invalid rho 1.5 (must be in [0, 1])");
  TG_CHECK_ERROR(check(RangeOptions{.rho = -0.5}), "X: invalid rho -0.5 (must be in [0, 1])");
  TG_CHECK_ERROR(check(RangeOptions{.betas = {1, 0.5}}), "X: invalid beta1 1 (must be in [0, 1))");
  TG_CHECK_ERROR(check(RangeOptions{.betas = {0.5, -0.1}}),
                 "X: invalid beta2 -0.1 (must be in [0, 1))");
}

TEST_CASE("add_param_group adds parameters with the constructor's options and state for them") {
  for (const auto& row : optimizer_table()) {
    CAPTURE(row.label);
    auto params = two_params();
    auto opt = row.make({params[0]}, row.lr);
    if (row.one_group) {
      TG_CHECK_ERROR(opt->add_param_group({params[1]}), "LBFGS: add_param_group is not supported");
      continue;
    }
    opt->set_lr(row.lr / 2);  // defaults are the constructor's options, not the current lr
    opt->add_param_group({params[1]});
    REQUIRE(opt->param_groups().size() == 2);
    CHECK(opt->param_groups()[1].params.size() == 1);
    CHECK(opt->param_groups()[1].lr == row.lr);
    CHECK(opt->parameters()[1].impl() == params[1].impl());
    const tg::StateDict before = opt->state_dict();
    for (const auto& [key, value] : before) {
      if (!key.starts_with("param_groups.1.") || key == "param_groups.1.params") continue;
      const std::string first =
          "param_groups.0." + key.substr(std::string("param_groups.1.").size());
      CAPTURE(key);
      REQUIRE(before.contains(first));
      if (!key.ends_with(".lr")) CHECK(value.to_vector() == before.at(first).to_vector());
    }
    CHECK(before.at("param_groups.1.params").to_vector() == std::vector<double>{1});
    for (int k = 0; k < 2; ++k) opt->step(closure_for(*opt, params));
    CHECK(params[1].to_vector() != std::vector<double>{2.0, -0.5});
    const tg::StateDict after = opt->state_dict();
    if (row.label != "SGD") CHECK(after.lower_bound("state.1.") != after.end());
    const std::string duplicate = row.name + ": a parameter appears more than once";
    TG_CHECK_ERROR(opt->add_param_group({params[0]}), duplicate.c_str());
    TG_CHECK_ERROR(opt->add_param_group({tg::arange(2)}), "i64 [2]");
    CHECK(opt->param_groups().size() == 2);  // a rejected group adds nothing
  }
}

TEST_CASE("add_param_group with options: validated, and its parameters get their own state") {
  tg::Tensor a = param({1.0});
  tg::Tensor b = param({1.0});
  tg::optim::SGD opt({a}, {.lr = 0.1});
  TG_CHECK_ERROR(opt.add_param_group({.params = {b}, .options = {.lr = 0.1, .momentum = -1}}),
                 "SGD: invalid momentum -1");
  opt.add_param_group({.params = {b}, .options = {.lr = 0.01, .momentum = 0.9}});
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  CHECK(opt.state(1).momentum_buffer.item() == exact(1.0));
  CHECK(b.item() == exact(0.99));
  CHECK(opt.options(1).momentum == 0.9);
}

TEST_CASE("a group's parameter list cannot be changed, only its lr and options") {
  // `opt.param_groups()[0].params.push_back(b)` used to compile and made step() read past the
  // per-parameter state. The views hold the parameters by const reference, so it no longer
  // compiles; the only way to add parameters is add_param_group, which also adds their state.
  static_assert(!can_add_to_params<tg::optim::ParamGroupView>);
  static_assert(!can_add_to_params<tg::optim::ConstParamGroupView>);
  static_assert(can_set_lr<tg::optim::ParamGroupView>);
  tg::Tensor a = param({1.0});
  tg::optim::Adam opt({a}, {.lr = 0.1});
  opt.options().lr = 0.2;  // the options are the one place the lr lives
  CHECK(opt.lr() == 0.2);
  CHECK(opt.param_groups()[0].lr == 0.2);
  opt.param_groups()[0].lr = 0.3;
  CHECK(opt.options().lr == 0.3);
}

TEST_CASE("LBFGS works through Optimizer& with a closure") {
  tg::Tensor w = param({1.0, -1.0});
  tg::optim::LBFGS lbfgs({w}, {.line_search_fn = "strong_wolfe"});
  tg::optim::Optimizer& opt = lbfgs;
  auto closure = [&] {
    opt.zero_grad();
    tg::Tensor loss = (w * w).sum();
    loss.backward();
    return loss;
  };
  const tg::Tensor loss = opt.step(closure);
  CHECK(loss.item() == exact(2.0));
  // One strong-Wolfe step along −∇ with t = 1/‖∇‖₁·lr = 0.25 lands exactly on the minimum.
  CHECK(w.to_vector() == std::vector<double>{0.0, 0.0});
  TG_CHECK_ERROR(opt.step(), "LBFGS: step() needs a closure");
}

TEST_CASE("state buffers follow their parameter when the model is converted to another dtype") {
  for (const auto& row : optimizer_table()) {
    if (row.needs_closure) continue;  // LBFGS keeps its history in double whatever the dtype
    CAPTURE(row.label);
    auto params = two_params(tg::f32);
    auto opt = row.make(params, row.lr);
    opt->step(closure_for(*opt, params));
    for (tg::Tensor& p : params) p.set_data(p.detach().to(tg::f64));  // what Module::to does
    opt->step(closure_for(*opt, params));
    for (const auto& [key, value] : opt->state_dict())
      if (key.starts_with("state.") && value.dim() > 0) {
        CAPTURE(key);
        CHECK(value.dtype() == tg::f64);
      }
  }
}

TEST_CASE("a step counts as an in-place write: a graph recorded before it refuses to backward") {
  tg::Tensor w = param({1.0, 2.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  const tg::Tensor stale = (w * w).sum();  // mul saves w at its current version
  set_grad(w, {1.0, 1.0});
  const uint64_t before = w.version();
  opt.step();
  CHECK(w.version() > before);
  const std::string message = tg::testing::error_message([&] { stale.backward(); });
  CHECK(tg::testing::contains(message, "mul"));
  CHECK(tg::testing::contains(message, "modified by an inplace operation"));
}

TEST_CASE("every optimizer steps a parameter split across threads as it steps each element alone") {
  // 3·2^15 + 5 elements: above the size from which the steps split across threads (2^13 for
  // the adaptive ones, 2^15 for SGD) and not a whole number of 64-element chunks. Element i
  // starts at w0[i % 7] and gets gradient g[s][i % 7] at step s; seven one-element parameters
  // get the same values alone, where no split can happen. The hand-computed step tests check
  // the one-element steps; this checks that splitting changes no bit of any element.
  constexpr int64_t kSize = 3 * (int64_t{1} << 15) + 5;
  constexpr int64_t kKinds = 7;
  const std::vector<double> w0 = {1.0, -0.5, 2.0, 0.25, -1.5, 3.0, 0.75};
  const std::vector<std::vector<double>> gradients = {{2.0, -1.0, 4.0, 0.5, -3.0, 1.5, 0.0},
                                                      {-1.0, 0.5, 2.0, -2.0, 1.0, 0.25, 3.0},
                                                      {4.0, 2.0, -0.5, 1.0, 0.0, -1.0, 2.5}};
  const auto spread = [&](const std::vector<double>& per_kind) {
    std::vector<double> values(static_cast<size_t>(kSize));
    for (int64_t i = 0; i < kSize; ++i)
      values[static_cast<size_t>(i)] = per_kind[static_cast<size_t>(i % kKinds)];
    return values;
  };
  const int threads_before = tg::get_num_threads();
  tg::set_num_threads(2);
  for (const tg::testing::OptimizerRow& row : tg::testing::optimizer_table()) {
    if (row.needs_closure) continue;
    for (tg::DType dtype : {tg::f32, tg::f64}) {
      SUBCASE((row.label + (dtype == tg::f32 ? ", f32" : ", f64")).c_str()) {
        tg::Tensor large = tg::tensor(spread(w0), {kSize}, {.dtype = dtype, .requires_grad = true});
        std::vector<tg::Tensor> alone;
        for (double w : w0) alone.push_back(param({w}, dtype));
        const auto large_optimizer = row.make({large}, row.lr);
        const auto alone_optimizer = row.make(alone, row.lr);
        for (const std::vector<double>& g : gradients) {
          set_grad(large, spread(g));
          for (size_t k = 0; k < alone.size(); ++k) set_grad(alone[k], {g[k]});
          large_optimizer->step();
          alone_optimizer->step();
        }
        std::vector<double> expected;
        for (const tg::Tensor& w : alone) expected.push_back(w.item());
        const std::vector<double> values = large.to_vector();
        int64_t differing = 0;
        for (int64_t i = 0; i < kSize; ++i)
          if (values[static_cast<size_t>(i)] != expected[static_cast<size_t>(i % kKinds)])
            ++differing;
        CHECK(differing == 0);
      }
    }
  }
  tg::set_num_threads(threads_before);
}
