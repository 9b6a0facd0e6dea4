// Adagrad: hand-computed steps for every option, convergence and option errors.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/adagrad.hpp>

#include "hand_steps.hpp"
#include "support/testing.hpp"

using tg::testing::exact;
using tg::testing::param;
using tg::testing::set_grad;

namespace {

// Three steps from w = 1 with the fixed gradients 2, −1, 4; returns w after each step.
std::vector<double> run(tg::optim::AdagradOptions options) {
  return tg::testing::hand_steps<tg::optim::Adagrad>(options);
}

}  // namespace

TEST_CASE("Adagrad steps by hand for each option (lr 0.1, w0 = 1, gradients 2, -1, 4)") {
  SUBCASE("plain, eps 0") {
    // sum1 = 4,       w1 = 1 − 0.1·2/√4 = 0.9
    // sum2 = 4 + 1,   w2 = 0.9 + 0.1/√5
    // sum3 = 5 + 16,  w3 = w2 − 0.1·4/√21
    const auto w = run({.lr = 0.1, .eps = 0});
    const double w2 = 0.9 + 0.1 / std::sqrt(5.0);
    CHECK(w[0] == exact(0.9));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.4 / std::sqrt(21.0)));
  }
  SUBCASE("default eps 1e-10 and eps 1 both sit outside the square root") {
    const auto w = run({.lr = 0.1});
    CHECK(w[0] == exact(1 - 0.2 / (2 + 1e-10)));
    // eps 1: w1 = 1 − 0.2/(√4 + 1) = 1 − 0.2/3 (inside the root it would be 1 − 0.2/√5)
    const auto v = run({.lr = 0.1, .eps = 1});
    const double v1 = 1 - 0.2 / 3;
    const double v2 = v1 + 0.1 / (std::sqrt(5.0) + 1);
    CHECK(v[0] == exact(v1));
    CHECK(v[1] == exact(v2));
    CHECK(v[2] == exact(v2 - 0.4 / (std::sqrt(21.0) + 1)));
  }
  SUBCASE("lr_decay 0.5: clr = lr/(1 + (t − 1)·0.5) = 0.1, 0.1/1.5, 0.05") {
    // w1 = 1 − 0.1·2/2 = 0.9;  w2 = 0.9 + (0.1/1.5)/√5;  w3 = w2 − 0.05·4/√21
    const auto w = run({.lr = 0.1, .lr_decay = 0.5, .eps = 0});
    const double w2 = 0.9 + (0.1 / 1.5) / std::sqrt(5.0);
    CHECK(w[0] == exact(0.9));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.2 / std::sqrt(21.0)));
  }
  SUBCASE("initial_accumulator_value 1") {
    // sum1 = 1 + 4 = 5,  w1 = 1 − 0.2/√5;  sum2 = 6,  w2 = w1 + 0.1/√6;  sum3 = 22,  w3 = w2 −
    // 0.4/√22
    const auto w = run({.lr = 0.1, .initial_accumulator_value = 1, .eps = 0});
    const double w1 = 1 - 0.2 / std::sqrt(5.0);
    const double w2 = w1 + 0.1 / std::sqrt(6.0);
    CHECK(w[0] == exact(w1));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.4 / std::sqrt(22.0)));
  }
  SUBCASE("weight_decay 0.5 adds λw before accumulating") {
    // g1 = 2 + 0.5·1 = 2.5,     sum1 = 6.25,             w1 = 1 − 0.1·2.5/2.5 = 0.9
    // g2 = −1 + 0.5·0.9 = −0.55, sum2 = 6.25 + 0.3025 = 6.5525, w2 = 0.9 + 0.055/√6.5525
    // g3 = 4 + 0.5·w2,           sum3 = 6.5525 + g3²,    w3 = w2 − 0.1·g3/√sum3
    const auto w = run({.lr = 0.1, .weight_decay = 0.5, .eps = 0});
    const double w2 = 0.9 + 0.055 / std::sqrt(6.5525);
    const double g3 = 4 + 0.5 * w2;
    CHECK(w[0] == exact(0.9));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.1 * g3 / std::sqrt(6.5525 + g3 * g3)));
  }
}

TEST_CASE("Adagrad keeps its step count and sum per parameter") {
  tg::Tensor w = param({1.0, 2.0});
  tg::optim::Adagrad opt({w}, {.lr = 0.1, .initial_accumulator_value = 0.5});
  set_grad(w, {2.0, -1.0});
  opt.step();
  set_grad(w, {1.0, 3.0});
  opt.step();
  CHECK(opt.state(0).step == 2);
  const auto sum = opt.state(0).sum.to_vector();
  CHECK(sum[0] == exact(0.5 + 4 + 1));  // 0.5 + 2² + 1²
  CHECK(sum[1] == exact(0.5 + 1 + 9));  // 0.5 + (−1)² + 3²
}

TEST_CASE("Adagrad converges on L = ½(100 w1² + w2²)") {
  tg::Tensor w = param({1.0, 1.0});
  const tg::Tensor curvature = tg::tensor({100.0, 1.0}, {.dtype = tg::f64});
  tg::optim::Adagrad opt({w}, {.lr = 0.5});
  for (int k = 0; k < 500; ++k) {
    opt.zero_grad();
    ((curvature * w * w).sum() * 0.5).backward();
    opt.step();
  }
  const auto v = w.to_vector();
  CHECK(std::abs(v[0]) < 1e-6);
  CHECK(std::abs(v[1]) < 1e-6);
}

TEST_CASE("Adagrad rejects invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::Adagrad({w}, {.lr = -1}), "Adagrad: invalid learning rate -1");
  TG_CHECK_ERROR(tg::optim::Adagrad({w}, {.lr_decay = -0.25}), "lr_decay -0.25");
  TG_CHECK_ERROR(tg::optim::Adagrad({w}, {.weight_decay = -3}), "weight_decay -3");
  TG_CHECK_ERROR(tg::optim::Adagrad({w}, {.initial_accumulator_value = -1}),
                 "initial_accumulator_value -1");
  TG_CHECK_ERROR(tg::optim::Adagrad({w}, {.eps = -1e-10}), "eps -1e-10");
}
