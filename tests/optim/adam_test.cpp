// Adam and AdamW: hand-computed steps for every option, AMSGrad's maximum, decoupled weight
// decay, f32/f64 agreement, convergence and option errors.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/adam.hpp>

#include "hand_steps.hpp"
#include "support/testing.hpp"

using tg::testing::exact;
using tg::testing::param;
using tg::testing::set_grad;

namespace {

// Three steps from w = 1 with fixed gradients; returns w after each step.
template <class Optimizer, class Options>
std::vector<double> run(Options options, std::vector<double> gradients = {2.0, -1.0, 4.0}) {
  return tg::testing::hand_steps<Optimizer>(options, std::move(gradients));
}

}  // namespace

TEST_CASE("Adam steps by hand (lr 0.1, w0 = 1, gradients 2, -1, 4)") {
  SUBCASE("default betas (0.9, 0.999) and eps 1e-8") {
    // m1 = 0.1·2 = 0.2,              v1 = 0.001·4 = 0.004
    // m̂1 = 0.2/0.1 = 2,              v̂1 = 0.004/0.001 = 4,          w1 = 1 − 0.1·2/(2 + 1e-8)
    // m2 = 0.18 − 0.1 = 0.08,        v2 = 0.003996 + 0.001 = 0.004996
    // m̂2 = 0.08/0.19,                v̂2 = 0.004996/0.001999
    // m3 = 0.072 + 0.4 = 0.472,      v3 = 0.999·0.004996 + 0.016 = 0.020991004
    // m̂3 = 0.472/0.271,              v̂3 = 0.020991004/0.002997001
    const auto w = run<tg::optim::Adam>(tg::optim::AdamOptions{.lr = 0.1});
    const double w1 = 1 - 0.1 * 2 / (2 + 1e-8);
    const double w2 = w1 - 0.1 * (0.08 / 0.19) / (std::sqrt(0.004996 / 0.001999) + 1e-8);
    const double w3 = w2 - 0.1 * (0.472 / 0.271) / (std::sqrt(0.020991004 / 0.002997001) + 1e-8);
    CHECK(w[0] == exact(w1));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w3));
  }
  SUBCASE("betas (0.5, 0.5), eps 0") {
    // m1 = 1,  v1 = 2,    m̂1 = 1/0.5 = 2,        v̂1 = 2/0.5 = 4,       w1 = 1 − 0.1·2/2 = 0.9
    // m2 = 0,  v2 = 1.5,  m̂2 = 0,                                      w2 = 0.9
    // m3 = 2,  v3 = 8.75, m̂3 = 2/0.875,          v̂3 = 8.75/0.875 = 10,  w3 = 0.9 −
    // 0.1·(2/0.875)/√10
    const auto w =
        run<tg::optim::Adam>(tg::optim::AdamOptions{.lr = 0.1, .betas = {0.5, 0.5}, .eps = 0});
    CHECK(w[0] == exact(0.9));
    CHECK(w[1] == exact(0.9));
    CHECK(w[2] == exact(0.9 - 0.1 * (2 / 0.875) / std::sqrt(10.0)));
  }
  SUBCASE("weight_decay 0.5 is an L2 term in the gradient") {
    // g1 = 2 + 0.5·1 = 2.5,      m1 = 1.25,  v1 = 3.125,  m̂1 = 2.5, v̂1 = 6.25,  w1 = 1 − 0.1 = 0.9
    // g2 = −1 + 0.45 = −0.55,    m2 = 0.625 − 0.275 = 0.35,  v2 = 1.5625 + 0.15125 = 1.71375
    //                             m̂2 = 0.35/0.75,  v̂2 = 1.71375/0.75,  w2 = 0.9 − 0.1·m̂2/√v̂2
    // g3 = 4 + 0.5·w2,           m3 = 0.175 + 0.5·g3,  v3 = 0.856875 + 0.5·g3²  (÷ 0.875 each)
    const auto w = run<tg::optim::Adam>(
        tg::optim::AdamOptions{.lr = 0.1, .betas = {0.5, 0.5}, .eps = 0, .weight_decay = 0.5});
    const double w2 = 0.9 - 0.1 * (0.35 / 0.75) / std::sqrt(1.71375 / 0.75);
    const double g3 = 4 + 0.5 * w2;
    const double m3 = 0.175 + 0.5 * g3;
    const double v3 = 0.856875 + 0.5 * g3 * g3;
    CHECK(w[0] == exact(0.9));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(w2 - 0.1 * (m3 / 0.875) / std::sqrt(v3 / 0.875)));
  }
}

TEST_CASE("Adam with amsgrad keeps the running maximum of v and bias-corrects it") {
  // betas (0.5, 0.5), eps 0, lr 0.1, gradients 4, 1, 1 so that v falls:
  //   v1 = 8, v2 = 4 + 0.5 = 4.5, v3 = 2.25 + 0.5 = 2.75;  v_max = 8, 8, 8
  //   m1 = 2, m2 = 1 + 0.5 = 1.5, m3 = 0.75 + 0.5 = 1.25;  1 − 0.5^t = 0.5, 0.75, 0.875
  //   w1 = 1 − 0.1·(2/0.5)/√(8/0.5) = 1 − 0.1·4/4 = 0.9
  //   w2 = 0.9 − 0.1·(1.5/0.75)/√(8/0.75)
  //   w3 = w2 − 0.1·(1.25/0.875)/√(8/0.875)
  const auto w = run<tg::optim::Adam>(
      tg::optim::AdamOptions{.lr = 0.1, .betas = {0.5, 0.5}, .eps = 0, .amsgrad = true},
      {4.0, 1.0, 1.0});
  const double w2 = 0.9 - 0.1 * 2 / std::sqrt(8 / 0.75);
  CHECK(w[0] == exact(0.9));
  CHECK(w[1] == exact(w2));
  CHECK(w[2] == exact(w2 - 0.1 * (1.25 / 0.875) / std::sqrt(8 / 0.875)));
  // Without amsgrad the second step divides by √(4.5/0.75) = √6 instead.
  const auto plain = run<tg::optim::Adam>(
      tg::optim::AdamOptions{.lr = 0.1, .betas = {0.5, 0.5}, .eps = 0}, {4.0, 1.0, 1.0});
  CHECK(plain[1] == exact(0.9 - 0.1 * 2 / std::sqrt(6.0)));
}

TEST_CASE("AdamW decays the weight directly: θ ← θ(1 − lr·λ) before the Adam step") {
  SUBCASE("weight_decay 0.5, betas (0.5, 0.5), eps 0, lr 0.1") {
    // 1 − lr·λ = 0.95; the moments see the raw gradients 2, −1, 4:
    // m1 = 1, v1 = 2, m̂1 = 2, v̂1 = 4:        w1 = 0.95·1 − 0.1·2/2 = 0.85
    // m2 = 0, v2 = 1.5:                       w2 = 0.95·0.85 − 0 = 0.8075
    // m3 = 2, v3 = 8.75, m̂3 = 2/0.875, v̂3 = 10: w3 = 0.95·0.8075 − 0.1·(2/0.875)/√10
    const auto w = run<tg::optim::AdamW>(
        tg::optim::AdamWOptions{.lr = 0.1, .betas = {0.5, 0.5}, .eps = 0, .weight_decay = 0.5});
    CHECK(w[0] == exact(0.85));
    CHECK(w[1] == exact(0.8075));
    CHECK(w[2] == exact(0.95 * 0.8075 - 0.1 * (2 / 0.875) / std::sqrt(10.0)));
  }
  SUBCASE("default weight_decay is 1e-2") {
    // w1 = (1 − 0.1·0.01)·1 − 0.1·2/(2 + 1e-8)
    const auto w = run<tg::optim::AdamW>(tg::optim::AdamWOptions{.lr = 0.1});
    CHECK(w[0] == exact(0.999 - 0.1 * 2 / (2 + 1e-8)));
  }
  SUBCASE("with amsgrad") {
    // gradients 4, 1, 1 as in the Adam amsgrad case, λ 0.5: shrink 0.95 each step
    // w1 = 0.95 − 0.1·4/4 = 0.85;  w2 = 0.95·0.85 − 0.1·2/√(8/0.75)
    const auto w = run<tg::optim::AdamW>(
        tg::optim::AdamWOptions{
            .lr = 0.1, .betas = {0.5, 0.5}, .eps = 0, .weight_decay = 0.5, .amsgrad = true},
        {4.0, 1.0, 1.0});
    const double w2 = 0.95 * 0.85 - 0.1 * 2 / std::sqrt(8 / 0.75);
    CHECK(w[0] == exact(0.85));
    CHECK(w[1] == exact(w2));
    CHECK(w[2] == exact(0.95 * w2 - 0.1 * (1.25 / 0.875) / std::sqrt(8 / 0.875)));
  }
  SUBCASE("AdamW is an Adam with decoupled weight decay") {
    tg::Tensor w = param({1.0});
    tg::optim::AdamW adamw({w});
    const tg::optim::Adam& as_adam = adamw;
    CHECK(as_adam.decoupled_weight_decay());
    CHECK(as_adam.options().weight_decay == 1e-2);
    CHECK_FALSE(tg::optim::Adam({w}).decoupled_weight_decay());
  }
}

TEST_CASE("Adam keeps a step count per parameter and reuses its buffers") {
  tg::Tensor a = param({1.0});
  tg::Tensor b = param({1.0});
  tg::optim::Adam opt({a, b}, {.lr = 0.1});
  set_grad(a, {1.0});
  opt.step();  // b has no gradient: its state stays empty
  CHECK(opt.state(0).step == 1);
  CHECK(opt.state(1).step == 0);
  CHECK_FALSE(opt.state(1).exp_avg.defined());
  const double* buffer = opt.state(0).exp_avg.data<double>();
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  CHECK(opt.state(0).step == 2);
  CHECK(opt.state(1).step == 1);
  CHECK(opt.state(0).exp_avg.data<double>() == buffer);  // updated in place, not reallocated
  // b's first step is a fresh Adam step: w = 1 − 0.1·1/(1 + 1e-8)
  CHECK(b.item() == exact(1 - 0.1 / (1 + 1e-8)));
}

TEST_CASE("Adam in f32 agrees with Adam in f64") {
  // The same 20 steps on L = ½ Σ c_i w_i² in both dtypes; f32 rounding stays near 1e-6.
  auto trajectory = [](tg::DType dtype) {
    tg::Tensor w = param({1.0, -2.0, 0.5}, dtype);
    const tg::Tensor c = tg::tensor({3.0, 0.5, 10.0}, {.dtype = dtype});
    tg::optim::Adam opt({w}, {.lr = 0.05, .weight_decay = 0.01, .amsgrad = true});
    for (int k = 0; k < 20; ++k) {
      opt.zero_grad();
      ((c * w * w).sum() * 0.5).backward();
      opt.step();
    }
    CHECK(opt.state(0).exp_avg.dtype() == dtype);  // state lives in the parameter's dtype
    return w.to_vector();
  };
  const auto single = trajectory(tg::f32);
  const auto reference = trajectory(tg::f64);
  for (size_t i = 0; i < single.size(); ++i) {
    CAPTURE(i);
    CHECK(single[i] != reference[i]);  // really computed in float, not routed through double
    CHECK(single[i] == doctest::Approx(reference[i]).epsilon(1e-5));
  }
}

TEST_CASE("Adam converges on L = ½(100 w1² + w2²)") {
  tg::Tensor w = param({1.0, 1.0});
  tg::optim::Adam opt({w}, {.lr = 0.05});
  tg::testing::check_descends_ill_conditioned(opt, w, 2000, 200);
}

TEST_CASE("Adam and AdamW reject invalid options with the bad value in the message") {
  tg::Tensor w = param({1.0});
  TG_CHECK_ERROR(tg::optim::Adam({w}, {.lr = -0.001}), "Adam: invalid learning rate -0.001");
  TG_CHECK_ERROR(tg::optim::Adam({w}, {.betas = {1.0, 0.999}}), "beta1 1 (must be in [0, 1))");
  TG_CHECK_ERROR(tg::optim::Adam({w}, {.betas = {0.9, -0.5}}), "beta2 -0.5");
  TG_CHECK_ERROR(tg::optim::Adam({w}, {.eps = -1e-8}), "eps -1e-08");
  TG_CHECK_ERROR(tg::optim::Adam({w}, {.weight_decay = -0.1}), "weight_decay -0.1");
  TG_CHECK_ERROR(tg::optim::AdamW({w}, {.betas = {0.9, 1.5}}), "AdamW: invalid beta2 1.5");
  TG_CHECK_ERROR(tg::optim::AdamW({w}, {.weight_decay = -0.01}), "weight_decay -0.01");
}

TEST_CASE("AdamW's add_param_group takes AdamW's options, weight decay 1e-2 by default") {
  tg::Tensor a = param({1.0});
  tg::Tensor b = param({1.0});
  tg::optim::AdamW opt({a}, {.lr = 0.1});
  opt.add_param_group({.params = {b}, .options = {.lr = 0.2}});
  CHECK(opt.options(1).weight_decay == 1e-2);
  CHECK(opt.options(1).lr == 0.2);
  TG_CHECK_ERROR(opt.add_param_group({.params = {param({1.0})}, .options = {.eps = -1}}),
                 "AdamW: invalid eps -1");
  set_grad(b, {2.0});
  opt.step();
  // w1 = (1 − 0.2·0.01)·1 − 0.2·2/(2 + 1e-8), as in the AdamW case above with lr 0.2
  CHECK(b.item() == exact(0.998 - 0.2 * 2 / (2 + 1e-8)));
}
