// Dropout and F::dropout: fraction dropped, 1/(1 − p) scaling, gradient, eval identity, seeding.
#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/data.hpp>
#include <tapegrad/nn.hpp>
#include <tuple>

#include "support/testing.hpp"

namespace {

constexpr int64_t kElements = 200'000;

// The fraction of zeros, and whether every nonzero equals `kept`.
struct Census {
  double zero_fraction;
  bool others_equal_kept;
};

Census census(const tg::Tensor& y, double kept, double tolerance) {
  int64_t zeros = 0;
  bool equal = true;
  for (double v : y.to_vector()) {
    if (v == 0.0)
      ++zeros;
    else if (std::abs(v - kept) > tolerance)
      equal = false;
  }
  return {static_cast<double>(zeros) / static_cast<double>(y.numel()), equal};
}

}  // namespace

TEST_CASE("Dropout in training zeroes a fraction p and scales the rest by 1/(1 − p)") {
  tg::manual_seed(21);
  for (double p : {0.1, 0.3, 0.5, 0.8}) {
    CAPTURE(p);
    tg::nn::Dropout drop(p);
    const tg::Tensor x = tg::full({kElements}, 2.0);
    const Census c = census(drop(x), 2.0 / (1.0 - p), 1e-5);
    // A binomial fraction has std √(p(1 − p)/n) ≤ 0.0012 here; 0.006 is five of those.
    CHECK(std::abs(c.zero_fraction - p) < 0.006);
    CHECK(c.others_equal_kept);
  }
}

TEST_CASE("Dropout keeps the expected value and its gradient is the same mask") {
  tg::manual_seed(22);
  tg::nn::Dropout drop(0.25);
  const tg::Tensor x = tg::full({kElements}, 1.0, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor y = drop(x);
  // E[y] = (1 − p) · 1/(1 − p) = 1; the mean of n draws of 0 or 4/3 has std √(p/(1−p)/n) ≈ 0.0013
  CHECK(std::abs(y.mean().item() - 1.0) < 0.007);
  y.sum().backward();
  CHECK(x.grad().to_vector() == y.to_vector());  // dy/dx = mask, and x is all ones
}

TEST_CASE("Dropout in evaluation mode, or with p = 0, is the identity") {
  const tg::Tensor x = tg::randn({100});
  tg::nn::Dropout drop(0.5);
  drop.eval();
  CHECK(drop(x).impl() == x.impl());
  drop.train();
  CHECK(drop(x).to_vector() != x.to_vector());
  tg::nn::Dropout none(0.0);
  CHECK(none(x).impl() == x.impl());

  tg::nn::Sequential model(tg::nn::Linear(100, 100), tg::nn::Dropout(0.9));
  model.eval();
  const tg::Tensor a = model(x.reshape({1, 100}));
  const tg::Tensor b = model(x.reshape({1, 100}));
  CHECK(a.to_vector() == b.to_vector());
}

TEST_CASE("Dropout with p = 1 drops everything, gradient included") {
  tg::nn::Dropout drop(1.0);
  const tg::Tensor x = tg::ones({10}, {.requires_grad = true});
  const tg::Tensor y = drop(x);
  TG_CHECK_VALUES(y, std::vector<double>(10, 0.0));
  y.sum().backward();
  TG_CHECK_VALUES(x.grad(), std::vector<double>(10, 0.0));
}

TEST_CASE("Dropout's mask follows manual_seed") {
  tg::nn::Dropout drop(0.5);
  const tg::Tensor x = tg::ones({1000});
  tg::manual_seed(4);
  const std::vector<double> first = drop(x).to_vector();
  tg::manual_seed(4);
  CHECK(drop(x).to_vector() == first);
  CHECK(drop(x).to_vector() != first);
}

TEST_CASE("Dropout passes gradcheck in f64 for a fixed mask") {
  tg::nn::Dropout drop(0.4);
  const tg::Tensor x = tg::randn({3, 4}, {.dtype = tg::f64, .requires_grad = true});
  TG_CHECK_GRADCHECK(
      [&](const std::vector<tg::Tensor>& in) {
        tg::manual_seed(8);  // the same mask at every evaluation
        return drop(in[0]);
      },
      {x});
}

TEST_CASE("Dropout rejects p outside [0, 1] and integer inputs with tg::Error") {
  TG_CHECK_ERROR(tg::nn::Dropout(-0.1), "Dropout", "-0.1");
  TG_CHECK_ERROR(tg::nn::Dropout(1.5), "Dropout", "1.5");
  TG_CHECK_ERROR(tg::nn::Dropout(std::nan("")), "Dropout", "nan");
  tg::nn::Dropout drop;
  CHECK(drop.p() == 0.5);
  TG_CHECK_ERROR(drop(tg::zeros({2}, {.dtype = tg::i64})), "Dropout", "i64");
}

TEST_CASE("F::dropout is the module's kernel: the same mask for the same seed") {
  const tg::Tensor x = tg::ones({1000}, {.dtype = tg::f64});
  tg::nn::Dropout drop(0.3);
  tg::manual_seed(9);
  const std::vector<double> from_module = drop(x).to_vector();
  tg::manual_seed(9);
  CHECK(tg::F::dropout(x, 0.3, true).to_vector() == from_module);
  const Census c = census(tg::F::dropout(tg::full({kElements}, 2.0), 0.5), 4.0, 1e-5);
  CHECK(std::abs(c.zero_fraction - 0.5) < 0.006);  // five binomial std's, as above
  CHECK(c.others_equal_kept);
}

TEST_CASE("F::dropout with training false, or p = 0, returns its input") {
  const tg::Tensor x = tg::randn({50});
  CHECK(tg::F::dropout(x, 0.5, false).impl() == x.impl());
  CHECK(tg::F::dropout(x, 0.0, true).impl() == x.impl());
  TG_CHECK_VALUES(tg::F::dropout(x, 1.0, true), std::vector<double>(50, 0.0));
}

TEST_CASE("F::dropout passes gradcheck and names itself in its errors") {
  const tg::Tensor x = tg::randn({3, 4}, {.dtype = tg::f64, .requires_grad = true});
  TG_CHECK_GRADCHECK(
      [&](const std::vector<tg::Tensor>& in) {
        tg::manual_seed(8);
        return tg::F::dropout(in[0], 0.4, true);
      },
      {x});
  TG_CHECK_ERROR(tg::F::dropout(x, 1.5, true), "dropout", "1.5");
  TG_CHECK_ERROR(tg::F::dropout(tg::zeros({2}, {.dtype = tg::i64}), 0.5, true), "dropout", "i64");
}

TEST_CASE("after set_rng_state, Dropout, init and a seedless shuffling loader draw the same") {
  tg::manual_seed(21);
  const tg::Tensor state = tg::get_rng_state();
  auto draw = [] {
    tg::nn::Dropout dropout(0.5);
    const std::vector<double> mask = dropout(tg::ones({64})).to_vector();
    const std::vector<double> weight = tg::nn::Linear(4, 3).weight.to_vector();
    tg::data::DataLoader loader(tg::data::TensorDataset(tg::arange(10), tg::arange(10)),
                                {.batch_size = 10, .shuffle = true});
    return std::make_tuple(mask, weight, (*loader.begin()).x.to_vector());
  };
  const auto first = draw();
  tg::set_rng_state(state);
  CHECK(draw() == first);
}
