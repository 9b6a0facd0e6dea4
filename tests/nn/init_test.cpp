// tg::nn::init: each initialiser's bounds and sample moments on large tensors, gains, fans, errors.
#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

namespace init = tg::nn::init;
using init::FanMode;
using init::Nonlinearity;
using tg::testing::moments;

namespace {

// Largest |value|, to check a uniform initialiser's bound from both sides.
double largest_magnitude(const tg::Tensor& t) {
  double largest = 0;
  for (double v : t.to_vector()) largest = std::max(largest, std::abs(v));
  return largest;
}

// 2^17 samples: a sample mean is within 0.015 std of the truth at about 5.4 sigma
// (1/√n ≈ 0.0028), and a sample std within 1.5% of the truth at over 5 sigma (normal:
// 1/√(2n) ≈ 0.002; uniform: √(0.8/4n) ≈ 0.0012).
constexpr double kMeanTolerance = 0.015;
constexpr double kStdTolerance = 0.015;

void check_uniform(const tg::Tensor& t, double bound) {
  CAPTURE(bound);
  CHECK(largest_magnitude(t) <= bound);
  CHECK(largest_magnitude(t) > 0.999 * bound);
  const auto [mean, std] = moments(t);
  CHECK(std::abs(mean) < kMeanTolerance * bound / std::sqrt(3.0));
  CHECK(std == doctest::Approx(bound / std::sqrt(3.0)).epsilon(kStdTolerance));
}

void check_normal(const tg::Tensor& t, double expected_std) {
  CAPTURE(expected_std);
  const auto [mean, std] = moments(t);
  CHECK(std::abs(mean) < kMeanTolerance * expected_std);
  CHECK(std == doctest::Approx(expected_std).epsilon(kStdTolerance));
}

}  // namespace

TEST_CASE_TEMPLATE("uniform_ and normal_ fill with the asked distribution", T, float, double) {
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  tg::manual_seed(1);
  tg::Tensor t = tg::zeros({512, 256}, {.dtype = dtype});
  SUBCASE("uniform_(−1, 3): within [−1, 3], mean 1, std 4/√12") {
    init::uniform_(t, -1.0, 3.0);
    const std::vector<double> v = t.to_vector();
    CHECK(*std::min_element(v.begin(), v.end()) >= -1.0);
    CHECK(*std::max_element(v.begin(), v.end()) <= 3.0);
    const auto [mean, std] = moments(t);
    CHECK(std::abs(mean - 1.0) < kMeanTolerance * 4.0 / std::sqrt(12.0));
    CHECK(std == doctest::Approx(4.0 / std::sqrt(12.0)).epsilon(kStdTolerance));
  }
  SUBCASE("uniform_ defaults to U(0, 1)") {
    init::uniform_(t);
    const auto [mean, std] = moments(t);
    CHECK(std::abs(mean - 0.5) < kMeanTolerance / std::sqrt(12.0));
    CHECK(std == doctest::Approx(1.0 / std::sqrt(12.0)).epsilon(kStdTolerance));
  }
  SUBCASE("normal_(2, 0.5): mean 2, std 0.5") {
    init::normal_(t, 2.0, 0.5);
    const auto [mean, std] = moments(t);
    CHECK(std::abs(mean - 2.0) < kMeanTolerance * 0.5);
    CHECK(std == doctest::Approx(0.5).epsilon(kStdTolerance));
  }
  CHECK(t.dtype() == dtype);
}

TEST_CASE("constant_, zeros_ and ones_ fill every element, leaving requires_grad alone") {
  tg::Tensor t = tg::randn({2, 3}, {.requires_grad = true});
  init::constant_(t, 0.75);
  TG_CHECK_VALUES(t, std::vector<double>(6, 0.75));
  init::zeros_(t);
  TG_CHECK_VALUES(t, std::vector<double>(6, 0.0));
  init::ones_(t);
  TG_CHECK_VALUES(t, std::vector<double>(6, 1.0));
  CHECK(t.requires_grad());
  CHECK(t.is_leaf());
  tg::Tensor labels = tg::zeros({3}, {.dtype = tg::i64});
  init::constant_(labels, 7);
  TG_CHECK_VALUES(labels, {7, 7, 7});
}

TEST_CASE("initialisers write in place and record nothing") {
  tg::nn::Linear fc(4, 3);
  tg::Tensor handle = fc.weight;
  const tg::Tensor returned = init::xavier_uniform_(fc.weight);
  CHECK(returned.impl() == handle.impl());
  CHECK(returned.is_leaf());
  init::normal_(fc.bias, 0.0, 0.1);
  CHECK(fc.bias.is_leaf());
  CHECK(fc.bias.requires_grad());
}

TEST_CASE("calculate_gain matches PyTorch's table") {
  CHECK(init::calculate_gain(Nonlinearity::linear) == 1.0);
  CHECK(init::calculate_gain(Nonlinearity::sigmoid) == 1.0);
  CHECK(init::calculate_gain(Nonlinearity::tanh) == doctest::Approx(5.0 / 3.0));
  CHECK(init::calculate_gain(Nonlinearity::relu) == doctest::Approx(std::sqrt(2.0)));
  // leaky_relu: √(2 / (1 + slope²)); default slope 0.01 → √(2 / 1.0001)
  CHECK(init::calculate_gain(Nonlinearity::leaky_relu) == doctest::Approx(std::sqrt(2.0 / 1.0001)));
  CHECK(init::calculate_gain(Nonlinearity::leaky_relu, 0.2) ==
        doctest::Approx(std::sqrt(2.0 / 1.04)));
  CHECK(init::calculate_gain(Nonlinearity::leaky_relu, 0.0) == doctest::Approx(std::sqrt(2.0)));
  CHECK(init::calculate_gain(Nonlinearity::selu) == 0.75);
}

TEST_CASE("xavier_uniform_ and xavier_normal_ use fan_in + fan_out") {
  tg::manual_seed(2);
  tg::Tensor w = tg::zeros({300, 500});  // fan_out 300, fan_in 500
  SUBCASE("uniform: bound √(6 / 800) = 0.0866") {
    init::xavier_uniform_(w);
    check_uniform(w, std::sqrt(6.0 / 800.0));
  }
  SUBCASE("uniform with the gain of tanh: bound (5/3)·√(6 / 800)") {
    init::xavier_uniform_(w, init::calculate_gain(Nonlinearity::tanh));
    check_uniform(w, 5.0 / 3.0 * std::sqrt(6.0 / 800.0));
  }
  SUBCASE("normal: std √(2 / 800) = 0.05") {
    init::xavier_normal_(w);
    check_normal(w, 0.05);
  }
  SUBCASE("normal with gain 2: std 0.1") {
    init::xavier_normal_(w, 2.0);
    check_normal(w, 0.1);
  }
}

TEST_CASE("kaiming_uniform_ and kaiming_normal_ use the gain over √fan") {
  tg::manual_seed(3);
  tg::Tensor w = tg::zeros({256, 512}, {.dtype = tg::f64});  // fan_out 256, fan_in 512
  SUBCASE("uniform, defaults (a = 0, fan_in, leaky_relu): bound √3·√2/√512 = √(6/512)") {
    init::kaiming_uniform_(w);
    check_uniform(w, std::sqrt(6.0 / 512.0));
  }
  SUBCASE("uniform, a = √5 (Linear's): bound 1/√512") {
    init::kaiming_uniform_(w, std::sqrt(5.0));
    check_uniform(w, 1.0 / std::sqrt(512.0));
  }
  SUBCASE("uniform, fan_out, relu: bound √(6/256)") {
    init::kaiming_uniform_(w, 0.0, FanMode::fan_out, Nonlinearity::relu);
    check_uniform(w, std::sqrt(6.0 / 256.0));
  }
  SUBCASE("uniform, tanh ignores a: bound √3·(5/3)/√512") {
    init::kaiming_uniform_(w, 0.3, FanMode::fan_in, Nonlinearity::tanh);
    check_uniform(w, std::sqrt(3.0) * (5.0 / 3.0) / std::sqrt(512.0));
  }
  SUBCASE("normal, defaults: std √2/√512 = 0.0625") {
    init::kaiming_normal_(w);
    check_normal(w, 0.0625);
  }
  SUBCASE("normal, fan_out, relu: std √2/√256 = 0.0884") {
    init::kaiming_normal_(w, 0.0, FanMode::fan_out, Nonlinearity::relu);
    check_normal(w, std::sqrt(2.0) / 16.0);
  }
  SUBCASE("normal, a = 1 for leaky_relu: gain √(2/2) = 1, std 1/√512") {
    init::kaiming_normal_(w, 1.0);
    check_normal(w, 1.0 / std::sqrt(512.0));
  }
  SUBCASE("normal, linear: std 1/√512") {
    init::kaiming_normal_(w, 0.0, FanMode::fan_in, Nonlinearity::linear);
    check_normal(w, 1.0 / std::sqrt(512.0));
  }
}

TEST_CASE("fans of a tensor with more than 2 dims include the receptive field") {
  tg::manual_seed(4);
  // [64, 32, 8, 8]: receptive field 64, fan_in 32·64 = 2048, fan_out 64·64 = 4096
  tg::Tensor w = tg::zeros({64, 32, 8, 8});
  init::kaiming_normal_(w, 0.0, FanMode::fan_out, Nonlinearity::relu);
  check_normal(w, std::sqrt(2.0 / 4096.0));
  init::xavier_uniform_(w);
  check_uniform(w, std::sqrt(6.0 / (2048.0 + 4096.0)));
}

TEST_CASE("initialisers follow manual_seed") {
  tg::Tensor a = tg::zeros({5, 4}), b = tg::zeros({5, 4});
  tg::manual_seed(10);
  init::xavier_normal_(a);
  tg::manual_seed(10);
  init::xavier_normal_(b);
  CHECK(a.to_vector() == b.to_vector());
  init::xavier_normal_(b);
  CHECK(a.to_vector() != b.to_vector());
}

TEST_CASE("initialisers reject what PyTorch rejects with tg::Error naming the initialiser") {
  TG_CHECK_ERROR(init::xavier_uniform_(tg::zeros({5})), "xavier_uniform_", "[5]");
  TG_CHECK_ERROR(init::kaiming_normal_(tg::zeros({5})), "kaiming_normal_", "2 dims");
  TG_CHECK_ERROR(init::uniform_(tg::zeros({3}), 1.0, 0.0), "uniform_");
  TG_CHECK_ERROR(init::normal_(tg::zeros({3}), 0.0, -1.0), "normal_", "std");
  TG_CHECK_ERROR(init::uniform_(tg::zeros({3}, {.dtype = tg::i64})), "uniform_", "i64");
  TG_CHECK_ERROR(init::kaiming_uniform_(tg::zeros({3, 3}, {.dtype = tg::i64})), "kaiming_uniform_",
                 "i64");
  TG_CHECK_ERROR(init::zeros_(tg::Tensor()), "constant_", "undefined");
}
