// Adadelta: steps by hand and from PyTorch 1.13's documented formulas written out here in
// double, weight decay, maximize, and option errors.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/adadelta.hpp>

#include "hand_steps.hpp"
#include "support/testing.hpp"

using tg::testing::check_steps;
using tg::testing::exact;
using tg::testing::hand_steps;
using tg::testing::param;

namespace {

// Adadelta as the torch.optim.Adadelta documentation states it, one scalar parameter.
std::vector<double> adadelta_reference(double lr, double rho, double eps, double decay,
                                       bool maximize, const std::vector<double>& gradients) {
  double w = 1, v = 0, u = 0;
  std::vector<double> trace;
  for (double gradient : gradients) {
    const double g = (maximize ? -gradient : gradient) + decay * w;
    v = rho * v + (1 - rho) * g * g;
    const double delta = std::sqrt(u + eps) / std::sqrt(v + eps) * g;
    u = rho * u + (1 - rho) * delta * delta;
    w -= lr * delta;
    trace.push_back(w);
  }
  return trace;
}

}  // namespace

TEST_CASE("Adadelta by hand (lr 1, ρ 0.5, eps 1: round numbers)") {
  // g = 2:  v = 0.5·4 = 2,        Δ = √(0 + 1)/√(2 + 1)·2 = 2/√3,  u = 0.5·4/3 = 2/3
  //         w1 = 1 − 2/√3
  // g = −1: v = 1 + 0.5 = 1.5,    Δ = √(2/3 + 1)/√(1.5 + 1)·(−1) = −√(5/3)/√2.5
  //         w2 = w1 + √(5/3)/√2.5
  const auto w = hand_steps<tg::optim::Adadelta>(
      tg::optim::AdadeltaOptions{.lr = 1, .rho = 0.5, .eps = 1}, {2.0, -1.0});
  const double w1 = 1 - 2 / std::sqrt(3.0);
  CHECK(w[0] == exact(w1));
  CHECK(w[1] == exact(w1 + std::sqrt(5.0 / 3.0) / std::sqrt(2.5)));
}

TEST_CASE("Adadelta follows its documented update step by step") {
  const std::vector<double> gradients = {2.0, -1.0, 4.0, 0.5, -3.0, 1.5, 2.5, -0.5};
  SUBCASE("defaults") {
    const auto w = hand_steps<tg::optim::Adadelta>(tg::optim::AdadeltaOptions{}, gradients);
    const auto expected = adadelta_reference(1.0, 0.9, 1e-6, 0, false, gradients);
    check_steps(w, expected);
  }
  SUBCASE("maximize, weight decay 0.1, ρ 0.7, lr 0.5") {
    const tg::optim::AdadeltaOptions options{
        .lr = 0.5, .rho = 0.7, .eps = 1e-3, .weight_decay = 0.1, .maximize = true};
    const auto w = hand_steps<tg::optim::Adadelta>(options, gradients);
    const auto expected = adadelta_reference(0.5, 0.7, 1e-3, 0.1, true, gradients);
    check_steps(w, expected);
  }
}

TEST_CASE("Adadelta counts steps and names its buffers as PyTorch does") {
  tg::Tensor w = param({1.0, 2.0});
  tg::optim::Adadelta opt({w});
  (w * w).sum().backward();
  opt.step();
  opt.step();
  CHECK(opt.state(0).step == 2);
  const tg::StateDict dict = opt.state_dict();
  CHECK(dict.count("state.0.square_avg") == 1);
  CHECK(dict.count("state.0.acc_delta") == 1);
  CHECK(dict.count("param_groups.0.rho") == 1);
}

TEST_CASE("Adadelta rejects invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::Adadelta({w}, {.lr = -1}), "Adadelta: invalid learning rate -1");
  TG_CHECK_ERROR(tg::optim::Adadelta({w}, {.rho = 1.5}), "rho 1.5 (must be in [0, 1])");
  TG_CHECK_ERROR(tg::optim::Adadelta({w}, {.eps = -1}), "eps -1");
  TG_CHECK_ERROR(tg::optim::Adadelta({w}, {.weight_decay = -0.1}), "weight_decay -0.1");
}
