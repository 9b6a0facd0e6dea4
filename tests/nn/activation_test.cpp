// Layers without parameters: values, gradcheck in f64, and their PyTorch defaults.
#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

namespace {

const tg::Tensor kInput = tg::tensor({-2.0, -0.5, 0.0, 1.5}, {2, 2}, {.dtype = tg::f64});

tg::Tensor f64_input() {
  // Away from 0, where relu and leaky_relu have no derivative.
  return tg::tensor({-1.3, -0.4, 0.7, 2.1, 0.3, -0.9}, {2, 3},
                    {.dtype = tg::f64, .requires_grad = true});
}

void check_gradcheck(tg::nn::Module& layer) {
  const tg::Tensor x = f64_input();
  TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return layer(in[0]); }, {x});
}

}  // namespace

TEST_CASE("ReLU keeps the positive part") {
  tg::nn::ReLU layer;
  TG_CHECK_VALUES(layer(kInput), {0, 0, 0, 1.5});
  check_gradcheck(layer);
}

TEST_CASE("Sigmoid maps to 1 / (1 + e^−x)") {
  tg::nn::Sigmoid layer;
  // 1/(1+e²) = 0.11920292202211755, 1/(1+e^0.5) = 0.3775406687981454, ½,
  // 1/(1+e^−1.5) = 0.8175744761936437
  TG_CHECK_VALUES(layer(kInput),
                  {0.11920292202211755, 0.3775406687981454, 0.5, 0.8175744761936437});
  check_gradcheck(layer);
}

TEST_CASE("Tanh maps to tanh(x)") {
  tg::nn::Tanh layer;
  // tanh 2 = 0.9640275800758169, tanh 0.5 = 0.46211715726000974, tanh 1.5 = 0.9051482536448664
  TG_CHECK_VALUES(layer(kInput),
                  {-0.9640275800758169, -0.46211715726000974, 0.0, 0.9051482536448664});
  check_gradcheck(layer);
}

TEST_CASE("LeakyReLU scales the negative part by its slope, 0.01 by default") {
  tg::nn::LeakyReLU default_slope;
  CHECK(default_slope.negative_slope() == 0.01);
  TG_CHECK_VALUES(default_slope(kInput), {-0.02, -0.005, 0, 1.5});
  tg::nn::LeakyReLU steep(0.2);
  TG_CHECK_VALUES(steep(kInput), {-0.4, -0.1, 0, 1.5});
  check_gradcheck(steep);
}

TEST_CASE("Softmax normalises along its dim") {
  tg::nn::Softmax rows(1);
  // row [−2, −0.5]: e^−2 / (e^−2 + e^−0.5) = 1/(1 + e^1.5) = 0.18242552380635635
  // row [0, 1.5]:   1/(1 + e^1.5) = 0.18242552380635635 again (same difference of 1.5)
  TG_CHECK_VALUES(rows(kInput), {0.18242552380635635, 0.8175744761936437, 0.18242552380635635,
                                 0.8175744761936437});
  tg::nn::Softmax columns(-2);
  CHECK(columns.dim() == -2);
  // column [−2, 0]: 1/(1 + e²) = 0.11920292202211755; column [−0.5, 1.5]: the same gap of 2
  TG_CHECK_VALUES(columns(kInput), {0.11920292202211755, 0.11920292202211755, 0.8807970779778824,
                                    0.8807970779778824});
  check_gradcheck(rows);
  check_gradcheck(columns);
}

TEST_CASE("LogSoftmax is the log of Softmax, and stays finite for logits of ±1000") {
  tg::nn::LogSoftmax layer(1);
  // log(1/(1 + e^1.5)) = −log(1 + e^1.5) = −1.7014132779827524; log(1/(1 + e^−1.5)) =
  // −0.20141327798275246
  TG_CHECK_VALUES(layer(kInput), {-1.7014132779827524, -0.20141327798275246, -1.7014132779827524,
                                  -0.20141327798275246});
  const tg::Tensor extreme = tg::tensor({1000, -1000}, {1, 2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(layer(extreme), {0, -2000});
  check_gradcheck(layer);
}

TEST_CASE("Identity returns its input") {
  tg::nn::Identity layer;
  const tg::Tensor y = layer(kInput);
  CHECK(y.impl() == kInput.impl());
  check_gradcheck(layer);
  CHECK(layer.parameters().empty());
}

TEST_CASE("GELU, SiLU, ELU and Softplus give PyTorch's documented values") {
  // kInput = [−2, −0.5, 0, 1.5]
  SUBCASE("GELU: x·Φ(x)") {
    tg::nn::GELU layer;
    // Φ(−2) = 0.02275013194817921, Φ(−0.5) = 0.3085375387259869, Φ(1.5) = 0.9331927987311419
    TG_CHECK_VALUES(layer(kInput), {-2 * 0.02275013194817921, -0.5 * 0.3085375387259869, 0,
                                    1.5 * 0.9331927987311419});
    check_gradcheck(layer);
  }
  SUBCASE("SiLU: x·σ(x)") {
    tg::nn::SiLU layer;
    TG_CHECK_VALUES(layer(kInput), {-2 / (1 + std::exp(2.0)), -0.5 / (1 + std::exp(0.5)), 0,
                                    1.5 / (1 + std::exp(-1.5))});
    check_gradcheck(layer);
  }
  SUBCASE("ELU: alpha 1 by default") {
    tg::nn::ELU layer;
    CHECK(layer.alpha() == 1.0);
    TG_CHECK_VALUES(layer(kInput), {std::exp(-2.0) - 1, std::exp(-0.5) - 1, 0, 1.5});
    tg::nn::ELU half(0.5);
    TG_CHECK_VALUES(half(kInput), {0.5 * (std::exp(-2.0) - 1), 0.5 * (std::exp(-0.5) - 1), 0, 1.5});
    check_gradcheck(half);
  }
  SUBCASE("Softplus: beta 1 and threshold 20 by default; ln 2 at 0") {
    tg::nn::Softplus layer;
    CHECK(layer.beta() == 1.0);
    CHECK(layer.threshold() == 20.0);
    TG_CHECK_VALUES(layer(kInput), {std::log1p(std::exp(-2.0)), std::log1p(std::exp(-0.5)),
                                    std::log(2.0), std::log1p(std::exp(1.5))});
    // beta 2, threshold 2: 2·1.5 = 3 > 2 gives x itself
    tg::nn::Softplus sharp(2.0, 2.0);
    TG_CHECK_VALUES(sharp(kInput), {std::log1p(std::exp(-4.0)) / 2, std::log1p(std::exp(-1.0)) / 2,
                                    std::log(2.0) / 2, 1.5});
    check_gradcheck(sharp);
  }
}

TEST_CASE("Flatten keeps the batch dim by default") {
  tg::nn::Flatten layer;
  CHECK(layer.start_dim() == 1);
  CHECK(layer.end_dim() == -1);
  const tg::Tensor x = tg::arange(24, {.dtype = tg::f64}).reshape({2, 3, 4});
  CHECK(layer(x).shape() == tg::Shape{2, 12});
  TG_CHECK_VALUES(layer(x), x.to_vector());
  tg::nn::Flatten middle(0, 1);
  CHECK(middle(x).shape() == tg::Shape{6, 4});
  check_gradcheck(layer);
  CHECK(layer.parameters().empty());
  TG_CHECK_ERROR(tg::nn::Flatten(2, 1)(x), "flatten", "start_dim 2");
}

TEST_CASE("activation layers pass bad dims on as tg::Error naming the op") {
  tg::nn::Softmax softmax(2);
  TG_CHECK_ERROR(softmax(kInput), "softmax");
  tg::nn::LogSoftmax log_softmax(-3);
  TG_CHECK_ERROR(log_softmax(kInput), "log_softmax");
}
