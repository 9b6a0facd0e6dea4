// SGD: hand-computed steps for every option, the classic worked examples, convergence, errors.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/sgd.hpp>

#include "hand_steps.hpp"
#include "support/testing.hpp"

using tg::testing::check_steps;
using tg::testing::exact;
using tg::testing::param;
using tg::testing::set_grad;

namespace {

// Three steps from w = 1 with the fixed gradients 2, −1, 4; returns w after each step.
std::vector<double> run(tg::optim::SGDOptions options) {
  return tg::testing::hand_steps<tg::optim::SGD>(options);
}

}  // namespace

TEST_CASE("SGD steps by hand for each option (lr 0.1, w0 = 1, gradients 2, -1, 4)") {
  SUBCASE("plain") {
    // w1 = 1 − 0.1·2 = 0.8;  w2 = 0.8 − 0.1·(−1) = 0.9;  w3 = 0.9 − 0.1·4 = 0.5
    check_steps(run({.lr = 0.1}), {0.8, 0.9, 0.5});
  }
  SUBCASE("momentum 0.9: the first buffer is the gradient itself") {
    // b1 = g1 = 2,                 w1 = 1 − 0.1·2 = 0.8
    // b2 = 0.9·2 + (−1) = 0.8,     w2 = 0.8 − 0.1·0.8 = 0.72
    // b3 = 0.9·0.8 + 4 = 4.72,     w3 = 0.72 − 0.1·4.72 = 0.248
    check_steps(run({.lr = 0.1, .momentum = 0.9}), {0.8, 0.72, 0.248});
  }
  SUBCASE("momentum 0.9, dampening 0.5: no dampening at the first step") {
    // b1 = 2 (undampened),                 w1 = 0.8
    // b2 = 0.9·2 + 0.5·(−1) = 1.3,         w2 = 0.8 − 0.13 = 0.67
    // b3 = 0.9·1.3 + 0.5·4 = 3.17,         w3 = 0.67 − 0.317 = 0.353
    check_steps(run({.lr = 0.1, .momentum = 0.9, .dampening = 0.5}), {0.8, 0.67, 0.353});
  }
  SUBCASE("Nesterov, momentum 0.9: step along g + μb") {
    // b1 = 2,       g = 2 + 0.9·2 = 3.8,       w1 = 1 − 0.38 = 0.62
    // b2 = 0.8,     g = −1 + 0.9·0.8 = −0.28,  w2 = 0.62 + 0.028 = 0.648
    // b3 = 4.72,    g = 4 + 0.9·4.72 = 8.248,  w3 = 0.648 − 0.8248 = −0.1768
    check_steps(run({.lr = 0.1, .momentum = 0.9, .nesterov = true}), {0.62, 0.648, -0.1768});
  }
  SUBCASE("weight decay 0.1 adds λw to the gradient") {
    // g = 2 + 0.1·1 = 2.1,            w1 = 1 − 0.21 = 0.79
    // g = −1 + 0.1·0.79 = −0.921,     w2 = 0.79 + 0.0921 = 0.8821
    // g = 4 + 0.1·0.8821 = 4.08821,   w3 = 0.8821 − 0.408821 = 0.473279
    check_steps(run({.lr = 0.1, .weight_decay = 0.1}), {0.79, 0.8821, 0.473279});
  }
  SUBCASE("weight decay enters before the momentum buffer") {
    // g = 2.1,                 b1 = 2.1,                         w1 = 1 − 0.21 = 0.79
    // g = −1 + 0.079 = −0.921, b2 = 0.9·2.1 − 0.921 = 0.969,     w2 = 0.79 − 0.0969 = 0.6931
    // g = 4 + 0.06931,         b3 = 0.9·0.969 + 4.06931 = 4.94141, w3 = 0.6931 − 0.494141 =
    // 0.198959
    check_steps(run({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1}), {0.79, 0.6931, 0.198959});
  }
  SUBCASE("maximize ascends") {
    // w1 = 1 + 0.1·2 = 1.2;  w2 = 1.2 − 0.1 = 1.1;  w3 = 1.1 + 0.4 = 1.5
    check_steps(run({.lr = 0.1, .maximize = true}), {1.2, 1.1, 1.5});
  }
}

TEST_CASE("SGD updates each element of a vector parameter on its own") {
  tg::Tensor w = param({1.0, -2.0, 0.5});
  tg::optim::SGD opt({w}, {.lr = 0.5, .momentum = 0.5});
  set_grad(w, {1.0, 2.0, -4.0});
  opt.step();  // b = g; w = [1 − 0.5, −2 − 1, 0.5 + 2] = [0.5, −3, 2.5]
  set_grad(w, {1.0, 0.0, 2.0});
  opt.step();  // b = 0.5·b + g = [1.5, 1, 0]; w = [0.5 − 0.75, −3 − 0.5, 2.5 − 0] = [−0.25,
               // −3.5, 2.5]
  const auto v = w.to_vector();
  CHECK(v[0] == exact(-0.25));
  CHECK(v[1] == exact(-3.5));
  CHECK(v[2] == exact(2.5));
  const auto b = opt.state(0).momentum_buffer.to_vector();
  CHECK(b[0] == exact(1.5));
  CHECK(b[1] == exact(1.0));
  CHECK(b[2] == exact(0.0));
}

TEST_CASE("SGD reproduces the worked example J = (θ − 3)² from θ = 8 with lr 0.1") {
  // dJ/dθ = 2(θ − 3): θ1 = 8 − 0.1·10 = 7, θ2 = 7 − 0.1·8 = 6.2, θ3 = 6.2 − 0.1·6.4 = 5.56
  tg::Tensor theta = param({8.0});
  tg::optim::SGD opt({theta}, {.lr = 0.1});
  std::vector<double> trace;
  for (int i = 0; i < 3; ++i) {
    opt.zero_grad();
    tg::pow(theta - 3.0, 2.0).sum().backward();
    opt.step();
    trace.push_back(theta.item());
  }
  CHECK(trace[0] == exact(7.0));
  CHECK(trace[1] == exact(6.2));
  CHECK(trace[2] == exact(5.56));
}

TEST_CASE("SGD reproduces one logistic-regression step at w = b = 0, x = [3, 2], y = 1") {
  // p = σ(0) = 0.5; dL/dw = (p − y)x = [−1.5, −1], dL/db = −0.5;
  // w = 0 − 0.1·[−1.5, −1] = [0.15, 0.10], b = 0.05
  tg::Tensor w = param({0.0, 0.0});
  tg::Tensor b = param({0.0});
  tg::optim::SGD opt({w, b}, {.lr = 0.1});
  const tg::Tensor x = tg::tensor({3.0, 2.0}, {.dtype = tg::f64});
  const tg::Tensor p = tg::sigmoid((w * x).sum() + b.sum());
  (-tg::log(p)).backward();  // y = 1: L = −log p
  opt.step();
  CHECK(w.to_vector()[0] == exact(0.15));
  CHECK(w.to_vector()[1] == exact(0.10));
  CHECK(b.item() == exact(0.05));
}

namespace {

// Iterations of SGD on L = ½(100 w1² + w2²) from (1, 1) until ‖w‖∞ < 1e-6 (cap 20000).
int iterations_to_converge(tg::optim::SGDOptions options) {
  tg::Tensor w = param({1.0, 1.0});
  const tg::Tensor curvature = tg::tensor({100.0, 1.0}, {.dtype = tg::f64});
  tg::optim::SGD opt({w}, options);
  for (int k = 1; k <= 20000; ++k) {
    opt.zero_grad();
    ((curvature * w * w).sum() * 0.5).backward();
    opt.step();
    const auto v = w.to_vector();
    if (std::abs(v[0]) < 1e-6 && std::abs(v[1]) < 1e-6) return k;
  }
  return 20001;
}

}  // namespace

TEST_CASE("momentum and Nesterov beat plain SGD on an ill-conditioned quadratic") {
  // lr 0.012: lr·a = 1.2 keeps the stiff coordinate stable for plain GD (< 2) and for
  // Nesterov (< 2(1 + μ)/(1 + 2μ) ≈ 1.36); plain GD then shrinks w2 by only 0.988 per step
  // (about 1150 steps to 1e-6), while momentum 0.9 contracts by about √0.9 ≈ 0.95 per step
  // in both coordinates.
  const int plain = iterations_to_converge({.lr = 0.012});
  const int momentum = iterations_to_converge({.lr = 0.012, .momentum = 0.9});
  const int nesterov = iterations_to_converge({.lr = 0.012, .momentum = 0.9, .nesterov = true});
  CAPTURE(plain);
  CAPTURE(momentum);
  CAPTURE(nesterov);
  CHECK(plain <= 20000);
  CHECK(plain > 1000);
  CHECK(momentum < plain / 2);
  CHECK(nesterov < plain / 2);
}

TEST_CASE("SGD rejects invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::SGD({w}, {.lr = -0.1}), "invalid learning rate -0.1");
  TG_CHECK_ERROR(tg::optim::SGD({w}, {.lr = 0.1, .momentum = -0.5}), "momentum -0.5");
  TG_CHECK_ERROR(tg::optim::SGD({w}, {.lr = 0.1, .weight_decay = -2}), "weight_decay -2");
  TG_CHECK_ERROR(tg::optim::SGD({w}, {.lr = 0.1, .nesterov = true}), "nesterov");
  TG_CHECK_ERROR(
      tg::optim::SGD({w}, {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .nesterov = true}),
      "dampening for nesterov 0.1");
  TG_CHECK_ERROR(tg::optim::SGD({w}, {.lr = std::nan("")}), "learning rate nan");
}
