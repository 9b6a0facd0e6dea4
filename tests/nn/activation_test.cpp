// Activation layers: values, gradcheck in f64, and their PyTorch defaults.
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

TEST_CASE("activation layers pass bad dims on as tg::Error naming the op") {
  tg::nn::Softmax softmax(2);
  TG_CHECK_ERROR(softmax(kInput), "softmax");
  tg::nn::LogSoftmax log_softmax(-3);
  TG_CHECK_ERROR(log_softmax(kInput), "log_softmax");
}
