// Unary ops and elementwise maximum/minimum: values, gradients away from kinks, f32 against f64.
#include <cmath>

#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::signed_away_from_zero;
using tg::testing::uniform;

TEST_CASE("exp, log, sqrt, abs and tanh match the scalar functions") {
  const tg::Tensor x = tg::tensor({0.5, 1.0, 4.0}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::exp(x), {std::exp(0.5), std::exp(1.0), std::exp(4.0)});
  TG_CHECK_VALUES(tg::log(x), {std::log(0.5), 0.0, std::log(4.0)});
  TG_CHECK_VALUES(tg::sqrt(x), {std::sqrt(0.5), 1.0, 2.0});
  TG_CHECK_VALUES(tg::tanh(x), {std::tanh(0.5), std::tanh(1.0), std::tanh(4.0)});
  TG_CHECK_VALUES(tg::abs(tg::tensor({-2.0, 0.0, 3.0}, {.dtype = tg::f64})), {2, 0, 3});
}

TEST_CASE("sigmoid, relu, leaky_relu and clamp") {
  const tg::Tensor x = tg::tensor({-2.0, 0.0, 3.0}, {.dtype = tg::f64});
  // σ(x) = 1 / (1 + e^−x): σ(0) = 0.5
  TG_CHECK_VALUES(tg::sigmoid(x), {1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-3.0))});
  TG_CHECK_VALUES(tg::relu(x), {0, 0, 3});
  TG_CHECK_VALUES(tg::leaky_relu(x, 0.1), {-0.2, 0, 3});
  TG_CHECK_VALUES(tg::clamp(x, -1.0, 2.0), {-1, 0, 2});
}

TEST_CASE("sigmoid stays finite and exact at the extremes") {
  const tg::Tensor x = tg::tensor({-1000.0, 1000.0}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor y = tg::sigmoid(x);
  TG_CHECK_VALUES(y, {0, 1});
  y.sum().backward();
  TG_CHECK_VALUES(x.grad(), {0, 0});
}

TEST_CASE("maximum and minimum pick elementwise and broadcast") {
  const tg::Tensor a = tg::tensor({1, 5, 3, 2}, {2, 2}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({2, 4}, {2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::maximum(a, b), {2, 5, 3, 4});
  TG_CHECK_VALUES(tg::minimum(a, b), {1, 4, 2, 2});
}

TEST_CASE("the gradient of each unary op is its textbook derivative") {
  tg::Tensor x = leaf({0.5, 2.0}, {2});
  SUBCASE("exp") {
    tg::exp(x).sum().backward();  // d(eˣ)/dx = eˣ
    TG_CHECK_VALUES(x.grad(), {std::exp(0.5), std::exp(2.0)});
  }
  SUBCASE("log") {
    tg::log(x).sum().backward();  // d(log x)/dx = 1/x
    TG_CHECK_VALUES(x.grad(), {2.0, 0.5});
  }
  SUBCASE("sqrt") {
    tg::sqrt(x).sum().backward();  // d(√x)/dx = 1/(2√x)
    TG_CHECK_VALUES(x.grad(), {1 / (2 * std::sqrt(0.5)), 1 / (2 * std::sqrt(2.0))});
  }
  SUBCASE("tanh") {
    tg::tanh(x).sum().backward();  // d(tanh x)/dx = 1 − tanh²x
    const double t0 = std::tanh(0.5), t1 = std::tanh(2.0);
    TG_CHECK_VALUES(x.grad(), {1 - t0 * t0, 1 - t1 * t1});
  }
  SUBCASE("sigmoid") {
    tg::sigmoid(x).sum().backward();  // dσ/dx = σ(1 − σ)
    const double s0 = 1 / (1 + std::exp(-0.5)), s1 = 1 / (1 + std::exp(-2.0));
    TG_CHECK_VALUES(x.grad(), {s0 * (1 - s0), s1 * (1 - s1)});
  }
}

TEST_CASE("piecewise ops route the gradient to the active piece") {
  tg::Tensor x = leaf({-2.0, 0.5, 3.0}, {3});
  SUBCASE("relu") {
    tg::relu(x).sum().backward();
    TG_CHECK_VALUES(x.grad(), {0, 1, 1});
  }
  SUBCASE("leaky_relu") {
    tg::leaky_relu(x, 0.2).sum().backward();
    TG_CHECK_VALUES(x.grad(), {0.2, 1, 1});
  }
  SUBCASE("abs") {
    tg::abs(x).sum().backward();
    TG_CHECK_VALUES(x.grad(), {-1, 1, 1});
  }
  SUBCASE("clamp") {
    tg::clamp(x, -1.0, 2.0).sum().backward();
    TG_CHECK_VALUES(x.grad(), {0, 1, 0});
  }
  SUBCASE("maximum and minimum") {
    tg::Tensor y = leaf({0.0, 1.0, 1.0}, {3});
    (tg::maximum(x, y) + 10.0 * tg::minimum(x, y)).sum().backward();
    // max picks y, y, x; min picks x, x, y
    TG_CHECK_VALUES(x.grad(), {10, 10, 1});
    TG_CHECK_VALUES(y.grad(), {1, 1, 10});
  }
}

TEST_CASE("unary ops pass gradcheck on several shapes") {
  tg::manual_seed(4);
  const tg::Shape shapes[] = {{}, {5}, {2, 3}, {2, 1, 3}};
  for (const tg::Shape& shape : shapes) {
    const auto rank = shape.size();
    CAPTURE(rank);
    const tg::Tensor positive = uniform(shape, 0.5, 2.0);
    const tg::Tensor any = signed_away_from_zero(shape);
    auto check = [](auto f, const tg::Tensor& input) {
      TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return f(in[0]); }, {input});
    };
    check([](const tg::Tensor& t) { return tg::exp(t); }, any);
    check([](const tg::Tensor& t) { return tg::log(t); }, positive);
    check([](const tg::Tensor& t) { return tg::sqrt(t); }, positive);
    check([](const tg::Tensor& t) { return tg::abs(t); }, any);
    check([](const tg::Tensor& t) { return tg::tanh(t); }, any);
    check([](const tg::Tensor& t) { return tg::sigmoid(t); }, any);
    check([](const tg::Tensor& t) { return tg::relu(t); }, any);
    check([](const tg::Tensor& t) { return tg::leaky_relu(t, 0.1); }, any);
    // Bounds at ±0.1 avoid every sample (|x| >= 0.2).
    check([](const tg::Tensor& t) { return tg::clamp(t, -0.1, 0.1); }, any);
    check([](const tg::Tensor& t) { return tg::clamp(t, -5.0, 5.0); }, any);
  }
}

TEST_CASE("maximum and minimum pass gradcheck with broadcasting") {
  tg::manual_seed(5);
  // a ends up in [−1, 1] ∪ (1.5, 3.5) and b lies in [1.05, 1.1): no pair is ever tied.
  const tg::Tensor a = uniform({3, 4}, -1.0, 3.0);
  const tg::Tensor b = uniform({4}, 1.05, 1.1);
  const tg::Tensor a_away =
      (a + tg::gt(a, tg::scalar(1.0, {.dtype = tg::f64})) * 0.5).detach().set_requires_grad();
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::maximum(in[0], in[1]); },
                     {a_away, b});
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::minimum(in[0], in[1]); },
                     {a_away, b});
}

TEST_CASE_TEMPLATE("f32 unary kernels agree with f64", T, float, double) {
  tg::manual_seed(6);
  const tg::Tensor x64 = tg::rand({257}, {.dtype = tg::f64}) * 4.0 + 0.25;
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const tg::Tensor x = x64.to(dtype);
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-15;
  using Unary = tg::Tensor (*)(const tg::Tensor&);
  const Unary ops[] = {tg::exp, tg::log, tg::sqrt, tg::abs, tg::tanh, tg::sigmoid, tg::relu};
  for (Unary op : ops) {
    const tg::Tensor out = op(x);
    CHECK(out.dtype() == dtype);
    // Relative comparison: exp reaches e^4.25 ≈ 70.
    const std::vector<double> expected = op(x64).to_vector();
    const std::vector<double> actual = out.to_vector();
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(std::abs(actual[i] - expected[i]) <= tolerance * (1 + std::abs(expected[i])));
  }
}
