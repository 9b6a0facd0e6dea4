// NAdam, RAdam and Adamax: steps by hand and from PyTorch 1.13's documented formulas written
// out here in double, weight decay, maximize, f32 state, and option errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/adamax.hpp>
#include <tapegrad/optim/nadam.hpp>
#include <tapegrad/optim/radam.hpp>

#include "hand_steps.hpp"
#include "support/testing.hpp"

using tg::testing::check_steps;
using tg::testing::exact;
using tg::testing::hand_steps;
using tg::testing::param;

namespace {

const std::vector<double> kGradients = {2.0, -1.0, 4.0, 0.5, -3.0, 1.5, 2.5, -0.5, 1.0, 3.0};

// NAdam as the torch.optim.NAdam documentation states it, one scalar parameter.
std::vector<double> nadam_reference(double lr, double b1, double b2, double eps, double decay,
                                    double psi, const std::vector<double>& gradients) {
  double w = 1, m = 0, v = 0, mu_product = 1;
  std::vector<double> trace;
  for (size_t k = 0; k < gradients.size(); ++k) {
    const double t = static_cast<double>(k + 1);
    const double g = gradients[k] + decay * w;
    const double mu_t = b1 * (1 - 0.5 * std::pow(0.96, t * psi));
    const double mu_next = b1 * (1 - 0.5 * std::pow(0.96, (t + 1) * psi));
    mu_product *= mu_t;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double v_hat = v / (1 - std::pow(b2, t));
    const double denominator = std::sqrt(v_hat) + eps;
    w -= lr * (1 - mu_t) / (1 - mu_product) * g / denominator;
    w -= lr * mu_next / (1 - mu_product * mu_next) * m / denominator;
    trace.push_back(w);
  }
  return trace;
}

// RAdam as the torch.optim.RAdam documentation states it.
std::vector<double> radam_reference(double lr, double b1, double b2, double eps, double decay,
                                    const std::vector<double>& gradients) {
  double w = 1, m = 0, v = 0;
  const double rho_inf = 2 / (1 - b2) - 1;
  std::vector<double> trace;
  for (size_t k = 0; k < gradients.size(); ++k) {
    const double t = static_cast<double>(k + 1);
    const double g = gradients[k] + decay * w;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const double m_hat = m / (1 - std::pow(b1, t));
    const double rho_t = rho_inf - 2 * t * std::pow(b2, t) / (1 - std::pow(b2, t));
    if (rho_t > 5) {
      const double l = std::sqrt(1 - std::pow(b2, t)) / (std::sqrt(v) + eps);
      const double r =
          std::sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t));
      w -= lr * m_hat * l * r;
    } else {
      w -= lr * m_hat;
    }
    trace.push_back(w);
  }
  return trace;
}

// Adamax as the torch.optim.Adamax documentation states it.
std::vector<double> adamax_reference(double lr, double b1, double b2, double eps, double decay,
                                     bool maximize, const std::vector<double>& gradients) {
  double w = 1, m = 0, u = 0;
  std::vector<double> trace;
  for (size_t k = 0; k < gradients.size(); ++k) {
    const double t = static_cast<double>(k + 1);
    const double g = (maximize ? -gradients[k] : gradients[k]) + decay * w;
    m = b1 * m + (1 - b1) * g;
    u = std::max(b2 * u, std::abs(g) + eps);
    w -= lr * m / ((1 - std::pow(b1, t)) * u);
    trace.push_back(w);
  }
  return trace;
}

}  // namespace

TEST_CASE("NAdam's first step by hand (lr 0.1, ψ 0 so μ = 0.45 each step, eps 0)") {
  // g = 2: m = 0.2, v = 0.004, v̂ = 4, d = 2; μ1 = μ2 = 0.9·(1 − ½) = 0.45
  // w1 = 1 − 0.1·(1 − 0.45)/(1 − 0.45)·2/2 − 0.1·0.45/(1 − 0.45²)·0.2/2 = 0.9 − 0.0045/0.7975
  const auto w = hand_steps<tg::optim::NAdam>(
      tg::optim::NAdamOptions{.lr = 0.1, .eps = 0, .momentum_decay = 0}, {2.0});
  CHECK(w[0] == exact(0.9 - 0.0045 / 0.7975));
}

TEST_CASE("NAdam follows its documented update step by step") {
  SUBCASE("defaults but lr 0.1") {
    check_steps(hand_steps<tg::optim::NAdam>(tg::optim::NAdamOptions{.lr = 0.1}, kGradients),
                nadam_reference(0.1, 0.9, 0.999, 1e-8, 0, 4e-3, kGradients));
  }
  SUBCASE("betas (0.8, 0.9), weight decay 0.1, momentum_decay 0.5") {
    const tg::optim::NAdamOptions options{
        .lr = 0.05, .betas = {0.8, 0.9}, .eps = 1e-3, .weight_decay = 0.1, .momentum_decay = 0.5};
    check_steps(hand_steps<tg::optim::NAdam>(options, kGradients),
                nadam_reference(0.05, 0.8, 0.9, 1e-3, 0.1, 0.5, kGradients));
  }
}

TEST_CASE("RAdam by hand: unrectified while ρ_t <= 5 (default betas, lr 0.1)") {
  // ρ∞ = 2/0.001 − 1 = 1999; ρ1 = 1999 − 2·0.999/0.001 = 1, so θ ← θ − γ m̂ with m̂1 = 2.
  // t = 2: m = 0.9·0.2 − 0.1 = 0.08, m̂ = 0.08/0.19, ρ2 = 1999 − 4·0.998001/0.001999 < 5.
  const auto w = hand_steps<tg::optim::RAdam>(tg::optim::RAdamOptions{.lr = 0.1}, {2.0, -1.0});
  CHECK(w[0] == exact(0.8));
  CHECK(w[1] == exact(0.8 - 0.1 * 0.08 / 0.19));
}

TEST_CASE("RAdam follows its documented update step by step, rectified from ρ_t > 5") {
  SUBCASE("β2 0.6: ρ∞ = 4, never rectified") {
    check_steps(hand_steps<tg::optim::RAdam>(
                    tg::optim::RAdamOptions{.lr = 0.1, .betas = {0.9, 0.6}}, kGradients),
                radam_reference(0.1, 0.9, 0.6, 1e-8, 0, kGradients));
  }
  SUBCASE("β2 0.99, weight decay 0.1: rectified from the sixth step") {
    // ρ∞ = 199; ρ5 = 199 − 10·0.99⁵/(1 − 0.99⁵) ≈ 4.96, ρ6 = 199 − 12·0.99⁶/(1 − 0.99⁶) ≈ 5.94.
    const tg::optim::RAdamOptions options{
        .lr = 0.1, .betas = {0.8, 0.99}, .eps = 1e-4, .weight_decay = 0.1};
    check_steps(hand_steps<tg::optim::RAdam>(options, kGradients),
                radam_reference(0.1, 0.8, 0.99, 1e-4, 0.1, kGradients));
    const double rho6 = 199 - 12 * std::pow(0.99, 6) / (1 - std::pow(0.99, 6));
    const double rho5 = 199 - 10 * std::pow(0.99, 5) / (1 - std::pow(0.99, 5));
    CHECK(rho5 <= 5);  // the case really crosses from one branch to the other
    CHECK(rho6 > 5);
  }
}

TEST_CASE("Adamax by hand (lr 0.1, default betas, eps 0, gradients 2, -1, 4)") {
  // t = 1: m = 0.2, u = max(0, 2) = 2,            w1 = 1 − 0.1·0.2/(0.1·2) = 0.9
  // t = 2: m = 0.08, u = max(1.998, 1) = 1.998,   w2 = 0.9 − 0.1·0.08/(0.19·1.998)
  // t = 3: m = 0.472, u = max(1.996002, 4) = 4,   w3 = w2 − 0.1·0.472/(0.271·4)
  const auto w = hand_steps<tg::optim::Adamax>(tg::optim::AdamaxOptions{.lr = 0.1, .eps = 0});
  const double w2 = 0.9 - 0.1 * 0.08 / (0.19 * 1.998);
  CHECK(w[0] == exact(0.9));
  CHECK(w[1] == exact(w2));
  CHECK(w[2] == exact(w2 - 0.1 * 0.472 / (0.271 * 4)));
}

TEST_CASE("Adamax follows its documented update step by step") {
  SUBCASE("defaults but lr 0.1") {
    check_steps(hand_steps<tg::optim::Adamax>(tg::optim::AdamaxOptions{.lr = 0.1}, kGradients),
                adamax_reference(0.1, 0.9, 0.999, 1e-8, 0, false, kGradients));
  }
  SUBCASE("maximize, weight decay 0.2, betas (0.5, 0.8)") {
    const tg::optim::AdamaxOptions options{
        .lr = 0.1, .betas = {0.5, 0.8}, .eps = 1e-2, .weight_decay = 0.2, .maximize = true};
    check_steps(hand_steps<tg::optim::Adamax>(options, kGradients),
                adamax_reference(0.1, 0.5, 0.8, 1e-2, 0.2, true, kGradients));
  }
}

TEST_CASE("NAdam keeps its buffers in f32 for f32 parameters and μ_1 in its product") {
  tg::Tensor w = tg::tensor({1.0f, -2.0f}, {.requires_grad = true});
  tg::optim::NAdam opt({w});
  (w * w).sum().backward();
  opt.step();
  CHECK(opt.state(0).exp_avg.dtype() == tg::f32);
  CHECK(opt.state(0).step == 1);
  CHECK(opt.state(0).mu_product == exact(0.9 * (1 - 0.5 * std::pow(0.96, 0.004))));
}

TEST_CASE("NAdam, RAdam and Adamax reject invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::NAdam({w}, {.lr = -1}), "NAdam: invalid learning rate -1");
  TG_CHECK_ERROR(tg::optim::NAdam({w}, {.momentum_decay = -0.5}), "momentum_decay -0.5");
  TG_CHECK_ERROR(tg::optim::RAdam({w}, {.betas = {1.0, 0.9}}), "RAdam: invalid beta1 1");
  TG_CHECK_ERROR(tg::optim::RAdam({w}, {.eps = -1}), "eps -1");
  TG_CHECK_ERROR(tg::optim::Adamax({w}, {.betas = {0.9, 1.5}}), "Adamax: invalid beta2 1.5");
  TG_CHECK_ERROR(tg::optim::Adamax({w}, {.weight_decay = -0.1}), "weight_decay -0.1");
}
