// Learning-rate schedulers: 12-step sequences against their closed forms, ReduceLROnPlateau on a
// scripted metric, multiple groups, other optimizers, and option errors.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim.hpp>

#include "support/testing.hpp"

using tg::testing::exact;
using tg::testing::param;

namespace {

// The lr after each of `steps` scheduler steps.
template <class Scheduler>
std::vector<double> lrs(Scheduler& scheduler, int steps = 12) {
  std::vector<double> result;
  for (int t = 0; t < steps; ++t) {
    scheduler.step();
    result.push_back(scheduler.last_lr());
  }
  return result;
}

void check_sequence(const std::vector<double>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t t = 0; t < actual.size(); ++t) {
    CAPTURE(t + 1);
    CHECK(actual[t] == exact(expected[t]));
  }
}

}  // namespace

TEST_CASE("StepLR: lr = 0.1 · 0.5^⌊t/3⌋") {
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  tg::optim::StepLR scheduler(opt, {.step_size = 3, .gamma = 0.5});
  CHECK(opt.lr() == 0.1);  // construction keeps the base lr
  CHECK(scheduler.last_lr() == 0.1);
  // t = 1..12: ⌊t/3⌋ = 0 0 1 1 1 2 2 2 3 3 3 4
  check_sequence(lrs(scheduler), {0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125,
                                  0.0125, 0.00625});
  CHECK(opt.lr() == exact(0.00625));
  CHECK(scheduler.last_epoch() == 12);
}

TEST_CASE("ExponentialLR: lr = 0.1 · 0.5^t") {
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  tg::optim::ExponentialLR scheduler(opt, {.gamma = 0.5});
  std::vector<double> expected;
  double lr = 0.1;
  for (int t = 1; t <= 12; ++t) expected.push_back(lr /= 2);  // 0.05, 0.025, ...
  check_sequence(lrs(scheduler), expected);
}

TEST_CASE("CosineAnnealingLR: lr = η_min + (base − η_min)(1 + cos(πt/T_max))/2") {
  // base 0.1, η_min 0.01, T_max 6: cos(πt/6) for t = 1..12 is
  // √3/2, 1/2, 0, −1/2, −√3/2, −1, −√3/2, −1/2, 0, 1/2, √3/2, 1 (it climbs back past T_max)
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  tg::optim::CosineAnnealingLR scheduler(opt, {.T_max = 6, .eta_min = 0.01});
  const double h = std::sqrt(3.0) / 2;
  const std::vector<double> cosines = {h, 0.5, 0, -0.5, -h, -1, -h, -0.5, 0, 0.5, h, 1};
  std::vector<double> expected;
  for (double c : cosines) expected.push_back(0.01 + 0.09 * (1 + c) / 2);
  const auto actual = lrs(scheduler);
  check_sequence(actual, expected);
  CHECK(actual[5] == exact(0.01));  // t = T_max reaches η_min
}

TEST_CASE("LinearLR: warm-up from base·start_factor to base·end_factor over total_iters") {
  // base 0.1, start 0.25, end 1, total 4: factor = 0.25 + 0.75·min(t, 4)/4
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  tg::optim::LinearLR scheduler(opt, {.start_factor = 0.25, .end_factor = 1.0, .total_iters = 4});
  CHECK(opt.lr() == exact(0.025));  // t = 0 applies at once, as in PyTorch
  check_sequence(lrs(scheduler),
                 {0.04375, 0.0625, 0.08125, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1});
  SUBCASE("defaults: start 1/3, end 1, 5 iterations") {
    tg::Tensor v = param({1.0});
    tg::optim::SGD other({v}, {.lr = 0.3});
    tg::optim::LinearLR warmup(other);
    CHECK(other.lr() == exact(0.1));  // 0.3 · 1/3
    warmup.step();
    CHECK(other.lr() == exact(0.3 * (1.0 / 3 + (2.0 / 3) / 5)));
  }
}

TEST_CASE("schedulers keep a base lr per group and drive any optimizer") {
  tg::Tensor a = param({1.0});
  tg::Tensor b = param({1.0});
  tg::optim::Adam opt(
      {{.params = {a}, .options = {.lr = 0.2}}, {.params = {b}, .options = {.lr = 0.02}}});
  tg::optim::StepLR scheduler(opt, {.step_size = 2, .gamma = 0.1});
  CHECK(scheduler.base_lrs() == std::vector<double>{0.2, 0.02});
  scheduler.step();
  scheduler.step();
  CHECK(opt.param_groups()[0].lr == exact(0.02));
  CHECK(opt.param_groups()[1].lr == exact(0.002));
  CHECK(scheduler.last_lrs()[1] == exact(0.002));
  // The optimizer really uses the scheduled lr: Adam's first step moves by lr.
  tg::testing::set_grad(a, {1.0});
  opt.step();
  CHECK(a.item() == exact(1 - 0.02 / (1 + 1e-8)));
}

TEST_CASE("ReduceLROnPlateau follows a scripted metric") {
  // mode min, factor 0.5, patience 2, threshold 0.1 (rel: better means < best·0.9), cooldown 1
  //  epoch metric  better?            bad  action                     lr
  //  1     10      10 < ∞: best 10     0                              1
  //  2     9.5     9.5 < 9? no         1                              1
  //  3     9.2     no                  2                              1
  //  4     9.1     no                  3 > 2: reduce, cooldown 1      0.5
  //  5     9.05    no                  1 → 0 (cooldown ends)          0.5
  //  6     8       8 < 9: best 8       0                              0.5
  //  7     8.5     no                  1                              0.5
  //  8     8.5     no                  2                              0.5
  //  9     8.5     no                  3 > 2: reduce, cooldown 1      0.25
  //  10    7.5     7.5 < 7.2? no       1 → 0 (cooldown ends)          0.25
  //  11    7       7 < 7.2: best 7     0                              0.25
  //  12    7       no                  1                              0.25
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 1.0});
  tg::optim::ReduceLROnPlateau scheduler(
      opt, {.mode = "min", .factor = 0.5, .patience = 2, .threshold = 0.1, .cooldown = 1});
  const std::vector<double> metrics = {10, 9.5, 9.2, 9.1, 9.05, 8, 8.5, 8.5, 8.5, 7.5, 7, 7};
  const std::vector<double> expected = {1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25};
  for (size_t e = 0; e < metrics.size(); ++e) {
    CAPTURE(e + 1);
    scheduler.step(metrics[e]);
    CHECK(scheduler.last_lr() == exact(expected[e]));
  }
  CHECK(scheduler.best() == 7);
  CHECK(scheduler.num_bad_epochs() == 1);
}

TEST_CASE("ReduceLROnPlateau in max mode with an absolute threshold and a floor") {
  // mode max, threshold 0.5 abs (better means > best + 0.5), patience 0, factor 0.1,
  // min_lr 0.015: 1 → best 1; 1.4 bad → 0.1 · 0.1... from lr 0.1: 0.01 floored to 0.015;
  // 2 > 1.5 better; 2.2 bad → 0.015·0.1 floored to 0.015: no change left (below eps)
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  tg::optim::ReduceLROnPlateau scheduler(opt, {.mode = "max",
                                               .factor = 0.1,
                                               .patience = 0,
                                               .threshold = 0.5,
                                               .threshold_mode = "abs",
                                               .min_lr = 0.015});
  scheduler.step(1.0);
  CHECK(opt.lr() == exact(0.1));
  scheduler.step(1.4);
  CHECK(opt.lr() == exact(0.015));
  scheduler.step(2.0);
  CHECK(opt.lr() == exact(0.015));
  CHECK(scheduler.best() == 2.0);
  scheduler.step(2.2);
  CHECK(opt.lr() == exact(0.015));
}

TEST_CASE("schedulers reject invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  tg::optim::SGD opt({w}, {.lr = 0.1});
  TG_CHECK_ERROR(tg::optim::StepLR(opt, {.step_size = 0}), "StepLR: invalid step_size 0");
  TG_CHECK_ERROR(tg::optim::StepLR(opt, {.step_size = 2, .gamma = -0.5}), "gamma -0.5");
  TG_CHECK_ERROR(tg::optim::ExponentialLR(opt, {.gamma = 0}), "ExponentialLR: invalid gamma 0");
  TG_CHECK_ERROR(tg::optim::CosineAnnealingLR(opt, {.T_max = -4}), "T_max -4");
  TG_CHECK_ERROR(tg::optim::CosineAnnealingLR(opt, {.T_max = 4, .eta_min = -1}), "eta_min -1");
  TG_CHECK_ERROR(tg::optim::LinearLR(opt, {.start_factor = 0}), "start_factor 0");
  TG_CHECK_ERROR(tg::optim::LinearLR(opt, {.end_factor = 1.5}), "end_factor 1.5");
  TG_CHECK_ERROR(tg::optim::LinearLR(opt, {.total_iters = 0}), "total_iters 0");
  TG_CHECK_ERROR(tg::optim::ReduceLROnPlateau(opt, {.mode = "lowest"}), "\"lowest\"");
  TG_CHECK_ERROR(tg::optim::ReduceLROnPlateau(opt, {.factor = 1.0}), "factor 1");
  TG_CHECK_ERROR(tg::optim::ReduceLROnPlateau(opt, {.patience = -1}), "patience -1");
  TG_CHECK_ERROR(tg::optim::ReduceLROnPlateau(opt, {.threshold_mode = "relative"}), "\"relative\"");
  TG_CHECK_ERROR(tg::optim::ReduceLROnPlateau(opt, {.cooldown = -2}), "cooldown -2");
  TG_CHECK_ERROR(tg::optim::ReduceLROnPlateau(opt, {.min_lr = -0.1}), "min_lr -0.1");
  CHECK(opt.lr() == 0.1);  // failed constructions changed nothing
}
