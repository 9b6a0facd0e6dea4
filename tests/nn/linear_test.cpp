// tg::nn::Linear: values for fixed weights, PyTorch's initialisation, gradcheck, errors.
#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::set_values;

TEST_CASE("Linear computes x Wᵀ + b with W [out, in]") {
  tg::nn::Linear fc(2, 3);
  CHECK(fc.weight.shape() == tg::Shape{3, 2});
  CHECK(fc.bias.shape() == tg::Shape{3});
  set_values(fc.weight, {1, 2, 3, 4, 5, 6});
  set_values(fc.bias, {0.5, -1, 2});
  const tg::Tensor x = tg::tensor({1, 1, 2, -1}, {2, 2});
  // row [1, 1]:  1+2+0.5 = 3.5,  3+4−1 = 6,  5+6+2 = 13
  // row [2, −1]: 2−2+0.5 = 0.5,  6−4−1 = 1,  10−6+2 = 6
  const tg::Tensor y = fc(x);
  CHECK(y.shape() == tg::Shape{2, 3});
  TG_CHECK_VALUES(y, {3.5, 6, 13, 0.5, 1, 6});

  SUBCASE("its gradients are those of x Wᵀ + b") {
    y.sum().backward();
    // d(sum)/dW[o][i] = Σ_rows x[r][i] = [3, 0] for every o; d/db = number of rows = 2
    TG_CHECK_VALUES(fc.weight.grad(), {3, 0, 3, 0, 3, 0});
    TG_CHECK_VALUES(fc.bias.grad(), {2, 2, 2});
  }
  SUBCASE("a 3-D input maps its last dimension") {
    const tg::Tensor batch = tg::tensor({1, 1, 2, -1}, {2, 1, 2});
    const tg::Tensor out = fc(batch);
    CHECK(out.shape() == tg::Shape{2, 1, 3});
    TG_CHECK_VALUES(out, {3.5, 6, 13, 0.5, 1, 6});
  }
}

TEST_CASE("Linear without bias registers only the weight") {
  tg::nn::Linear fc(2, 1, false);
  CHECK(!fc.bias.defined());
  const auto named = fc.named_parameters();
  REQUIRE(named.size() == 1);
  CHECK(named[0].first == "weight");
  set_values(fc.weight, {2, -3});
  TG_CHECK_VALUES(fc(tg::tensor({1, 1}, {1, 2})), {-1});  // 2·1 − 3·1
}

TEST_CASE("Linear registers weight then bias, f32 and requiring grad") {
  tg::nn::Linear fc(4, 5);
  const auto named = fc.named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(named[1].first == "bias");
  CHECK(named[0].second.impl() == fc.weight.impl());
  CHECK(fc.weight.dtype() == tg::f32);
  CHECK(fc.weight.requires_grad());
  CHECK(fc.bias.requires_grad());
  CHECK(fc.in_features() == 4);
  CHECK(fc.out_features() == 5);
}

TEST_CASE("Linear starts uniform in [−1/√in, 1/√in], as PyTorch") {
  tg::manual_seed(11);
  tg::nn::Linear fc(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);  // 0.05
  for (const tg::Tensor& p : {fc.weight, fc.bias}) {
    double largest = 0;
    for (double v : p.to_vector()) largest = std::max(largest, std::abs(v));
    CHECK(largest <= bound);
    CHECK(largest > 0.95 * bound);  // 300 or more draws: P(all inside 0.95) ≤ 0.95^300 ≈ 2e-7
  }
  // U(−b, b) has std b/√3 = 0.028868; 120,000 draws estimate it to about 0.2%.
  const auto [mean, std] = tg::testing::moments(fc.weight);
  CHECK(std::abs(mean) < 0.01 * bound);
  CHECK(std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(0.01));
}

TEST_CASE("Linear is reproducible under manual_seed") {
  tg::manual_seed(3);
  tg::nn::Linear a(3, 2);
  tg::manual_seed(3);
  tg::nn::Linear b(3, 2);
  CHECK(a.weight.to_vector() == b.weight.to_vector());
  CHECK(a.bias.to_vector() == b.bias.to_vector());
  tg::nn::Linear c(3, 2);
  CHECK(a.weight.to_vector() != c.weight.to_vector());
}

TEST_CASE("Linear passes gradcheck in f64 for the input, the weight and the bias") {
  tg::manual_seed(5);
  tg::nn::Linear fc(3, 4);
  fc.to(tg::f64);
  const tg::Tensor x = tg::randn({2, 3}, {.dtype = tg::f64, .requires_grad = true});
  // gradcheck perturbs its inputs in place, so the layer's own tensors can be inputs.
  TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return fc(in[0]); },
                     {x, fc.weight, fc.bias});
  tg::nn::Linear no_bias(3, 2, false);
  no_bias.to(tg::f64);
  TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return no_bias(in[0]); },
                     {x, no_bias.weight});
}

TEST_CASE("Linear rejects bad sizes and inputs with tg::Error naming the layer") {
  TG_CHECK_ERROR(tg::nn::Linear(0, 3), "Linear", "in_features");
  TG_CHECK_ERROR(tg::nn::Linear(3, -1), "Linear", "out_features");
  tg::nn::Linear fc(3, 2);
  TG_CHECK_ERROR(fc(tg::zeros({4, 5})), "Linear", "[4, 5]", "3");
  TG_CHECK_ERROR(fc(tg::scalar(1.0)), "Linear", "[]");
}
