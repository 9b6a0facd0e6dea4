// RMSprop: hand-computed steps for every option, convergence and option errors.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/rmsprop.hpp>

#include "hand_steps.hpp"
#include "support/testing.hpp"

using tg::testing::exact;
using tg::testing::param;
using tg::testing::set_grad;

namespace {

// Three steps from w = 1 with the fixed gradients 2, −1, 4; returns w after each step.
std::vector<double> run(tg::optim::RMSpropOptions options) {
  return tg::testing::hand_steps<tg::optim::RMSprop>(options);
}

// v_t for α = 0.9 and gradients 2, −1, 4:
//   v1 = 0.1·4 = 0.4;  v2 = 0.9·0.4 + 0.1·1 = 0.46;  v3 = 0.9·0.46 + 0.1·16 = 2.014
constexpr double kV1 = 0.4, kV2 = 0.46, kV3 = 2.014;

}  // namespace

TEST_CASE("RMSprop steps by hand for each option (lr 0.1, α 0.9, w0 = 1, gradients 2, -1, 4)") {
  SUBCASE("plain, eps 0") {
    // w1 = 1 − 0.1·2/√0.4;  w2 = w1 + 0.1/√0.46;  w3 = w2 − 0.4/√2.014
    const auto w = run({.lr = 0.1, .alpha = 0.9, .eps = 0});
    const double w1 = 1 - 0.2 / std::sqrt(kV1);
    const double w2 = w1 + 0.1 / std::sqrt(kV2);
    CHECK(w[0] == exact(w1));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.4 / std::sqrt(kV3)));
  }
  SUBCASE("eps 1 sits outside the square root") {
    // w1 = 1 − 0.2/(√0.4 + 1), not 1 − 0.2/√1.4
    const auto w = run({.lr = 0.1, .alpha = 0.9, .eps = 1});
    const double w1 = 1 - 0.2 / (std::sqrt(kV1) + 1);
    const double w2 = w1 + 0.1 / (std::sqrt(kV2) + 1);
    CHECK(w[0] == exact(w1));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.4 / (std::sqrt(kV3) + 1)));
  }
  SUBCASE("default alpha 0.99") {
    // v1 = 0.01·4 = 0.04, w1 = 1 − 0.2/0.2 = 0 (eps 0)
    // v2 = 0.99·0.04 + 0.01·1 = 0.0496, w2 = 0 + 0.1/√0.0496
    const auto w = run({.lr = 0.1, .eps = 0});
    CHECK(w[0] == exact(0.0));
    CHECK(w[1] == exact(0.1 / std::sqrt(0.0496)));
  }
  SUBCASE("centered: divide by √(v − g_ave²)") {
    // g_ave1 = 0.1·2 = 0.2,            ṽ1 = 0.4 − 0.04 = 0.36,         w1 = 1 − 0.2/0.6
    // g_ave2 = 0.9·0.2 − 0.1 = 0.08,   ṽ2 = 0.46 − 0.0064 = 0.4536,    w2 = w1 + 0.1/√0.4536
    // g_ave3 = 0.072 + 0.4 = 0.472,    ṽ3 = 2.014 − 0.222784 = 1.791216, w3 = w2 − 0.4/√1.791216
    const auto w = run({.lr = 0.1, .alpha = 0.9, .eps = 0, .centered = true});
    const double w1 = 1 - 0.2 / 0.6;
    const double w2 = w1 + 0.1 / std::sqrt(0.4536);
    CHECK(w[0] == exact(w1));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.4 / std::sqrt(1.791216)));
  }
  SUBCASE("momentum 0.5: b ← μb + g/√v, w ← w − lr·b") {
    // b1 = 2/√0.4;  b2 = 0.5·b1 − 1/√0.46;  b3 = 0.5·b2 + 4/√2.014
    const auto w = run({.lr = 0.1, .alpha = 0.9, .eps = 0, .momentum = 0.5});
    const double b1 = 2 / std::sqrt(kV1);
    const double b2 = 0.5 * b1 - 1 / std::sqrt(kV2);
    const double b3 = 0.5 * b2 + 4 / std::sqrt(kV3);
    CHECK(w[0] == exact(1 - 0.1 * b1));
    CHECK(w[1] == exact(1 - 0.1 * b1 - 0.1 * b2));
    CHECK(w[2] == exact(1 - 0.1 * b1 - 0.1 * b2 - 0.1 * b3));
  }
  SUBCASE("weight_decay 0.1 adds λw to the gradient first") {
    // g1 = 2 + 0.1 = 2.1,  v1 = 0.1·2.1² = 0.441,  w1 = 1 − 0.21/√0.441
    // g2 = −1 + 0.1·w1,    v2 = 0.9·0.441 + 0.1·g2², w2 = w1 − 0.1·g2/√v2
    const auto w = run({.lr = 0.1, .alpha = 0.9, .eps = 0, .weight_decay = 0.1});
    const double w1 = 1 - 0.21 / std::sqrt(0.441);
    const double g2 = -1 + 0.1 * w1;
    const double v2 = 0.9 * 0.441 + 0.1 * g2 * g2;
    const double w2 = w1 - 0.1 * g2 / std::sqrt(v2);
    const double g3 = 4 + 0.1 * w2;
    const double v3 = 0.9 * v2 + 0.1 * g3 * g3;
    CHECK(w[0] == exact(w1));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.1 * g3 / std::sqrt(v3)));
  }
}

TEST_CASE("RMSprop converges on L = ½(100 w1² + w2²) with a decaying lr") {
  tg::Tensor w = param({1.0, 1.0});
  tg::optim::RMSprop opt({w}, {.lr = 0.01, .momentum = 0.5, .centered = true});
  // RMSprop hovers at a scale set by lr, so lr halves every 300 steps.
  tg::testing::check_descends_ill_conditioned(opt, w, 3000, 300);
}

TEST_CASE("RMSprop rejects invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::RMSprop({w}, {.lr = -0.01}), "RMSprop: invalid learning rate -0.01");
  TG_CHECK_ERROR(tg::optim::RMSprop({w}, {.alpha = -0.9}), "alpha -0.9");
  TG_CHECK_ERROR(tg::optim::RMSprop({w}, {.eps = -1}), "eps -1");
  TG_CHECK_ERROR(tg::optim::RMSprop({w}, {.weight_decay = -0.1}), "weight_decay -0.1");
  TG_CHECK_ERROR(tg::optim::RMSprop({w}, {.momentum = -0.9}), "momentum -0.9");
}
