// mse_loss, l1_loss and huber_loss: values, gradients, every reduction, gradcheck and errors.
#include <string>
#include <tapegrad/autograd.hpp>
#include <tapegrad/autograd/tape.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::constant;
using tg::testing::leaf;
using Reduction = tg::F::Reduction;

namespace {
std::vector<tg::Tensor> f64_pair(tg::Shape shape) {
  return {tg::randn(shape, {.dtype = tg::f64, .requires_grad = true}),
          tg::randn(shape, {.dtype = tg::f64, .requires_grad = true})};
}
}  // namespace

TEST_CASE("mse_loss squares the differences and reduces them") {
  tg::Tensor x = leaf({0.5, 2.0, 1.0}, {3});
  const tg::Tensor y = constant({1.0, 1.0, 3.0}, {3});
  // differences −0.5, 1, −2; squares 0.25, 1, 4
  SUBCASE("mean") {
    const tg::Tensor loss = tg::F::mse_loss(x, y);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {5.25 / 3});  // (0.25 + 1 + 4) / 3
    loss.backward();
    TG_CHECK_VALUES(x.grad(), {-1.0 / 3, 2.0 / 3, -4.0 / 3});  // 2d / 3
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::mse_loss(x, y, Reduction::sum);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {5.25});
    loss.backward();
    TG_CHECK_VALUES(x.grad(), {-1.0, 2.0, -4.0});  // 2d
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::mse_loss(x, y, Reduction::none);
    CHECK(loss.shape() == tg::Shape{3});
    TG_CHECK_VALUES(loss, {0.25, 1.0, 4.0});
  }
}

TEST_CASE("mse_loss of a 2-D batch averages over every element") {
  tg::Tensor x = leaf({0.5, 2.0}, {2, 1});
  tg::Tensor y = leaf({1.0, 1.0}, {2, 1});
  const tg::Tensor loss = tg::F::mse_loss(x, y);
  TG_CHECK_VALUES(loss, {0.625});  // ((0.5−1)² + (2−1)²) / 2 = 1.25 / 2
  loss.backward();
  TG_CHECK_VALUES(x.grad(), {-0.5, 1.0});  // 2(x − y) / 2
  TG_CHECK_VALUES(y.grad(), {0.5, -1.0});  // −2(x − y) / 2
}

TEST_CASE("mse_loss gives a target that alone requires grad −2(x − y)·g") {
  const tg::Tensor x = constant({0.5, 2.0, 1.0}, {3});
  tg::Tensor y = leaf({1.0, 1.0, 3.0}, {3});
  SUBCASE("sum") {
    tg::F::mse_loss(x, y, Reduction::sum).backward();
    TG_CHECK_VALUES(y.grad(), {1.0, -2.0, 4.0});
  }
  SUBCASE("none, each term with its own gradient") {
    tg::F::mse_loss(x, y, Reduction::none).backward(constant({1.0, 10.0, 100.0}, {3}));
    TG_CHECK_VALUES(y.grad(), {1.0, -20.0, 400.0});
  }
}

TEST_CASE("l1_loss takes absolute differences and gives gradient 0 at a zero difference") {
  tg::Tensor x = leaf({0.5, 2.0, 1.0, 4.0}, {2, 2});
  const tg::Tensor y = constant({1.0, 1.0, 1.0, 1.0}, {2, 2});
  // |d| = 0.5, 1, 0, 3
  SUBCASE("mean") {
    const tg::Tensor loss = tg::F::l1_loss(x, y);
    TG_CHECK_VALUES(loss, {1.125});  // 4.5 / 4
    loss.backward();
    TG_CHECK_VALUES(x.grad(), {-0.25, 0.25, 0.0, 0.25});  // sign(d) / 4
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::l1_loss(x, y, Reduction::sum);
    TG_CHECK_VALUES(loss, {4.5});
    loss.backward();
    TG_CHECK_VALUES(x.grad(), {-1.0, 1.0, 0.0, 1.0});
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::l1_loss(x, y, Reduction::none);
    CHECK(loss.shape() == tg::Shape{2, 2});
    TG_CHECK_VALUES(loss, {0.5, 1.0, 0.0, 3.0});
  }
}

TEST_CASE("huber_loss is quadratic inside delta and linear outside") {
  tg::Tensor x = leaf({0.5, -3.0, 2.0, 1.0}, {4});
  const tg::Tensor y = constant({0.0, 0.0, 0.0, 0.0}, {4});
  SUBCASE("delta 1") {
    // 0.5: ½·0.25 = 0.125;  −3: 1·(3 − 0.5) = 2.5;  2: 1·(2 − 0.5) = 1.5;  1 (boundary): 0.5
    TG_CHECK_VALUES(tg::F::huber_loss(x, y, 1.0, Reduction::none), {0.125, 2.5, 1.5, 0.5});
    const tg::Tensor loss = tg::F::huber_loss(x, y);
    TG_CHECK_VALUES(loss, {4.625 / 4});  // (0.125 + 2.5 + 1.5 + 0.5) / 4
    loss.backward();
    // d/dd = clamp(d, −1, 1) / 4 = 0.5, −1, 1, 1 over 4
    TG_CHECK_VALUES(x.grad(), {0.125, -0.25, 0.25, 0.25});
  }
  SUBCASE("delta 2.5, sum") {
    // 0.5: 0.125;  −3: 2.5·(3 − 1.25) = 4.375;  2: ½·4 = 2;  1: 0.5  → 7
    const tg::Tensor loss = tg::F::huber_loss(x, y, 2.5, Reduction::sum);
    TG_CHECK_VALUES(loss, {7.0});
    loss.backward();
    TG_CHECK_VALUES(x.grad(), {0.5, -2.5, 2.0, 1.0});  // clamp(d, −2.5, 2.5)
  }
  SUBCASE("gradient is 0 where input equals target") {
    tg::Tensor z = leaf({1.0}, {1});
    tg::F::huber_loss(z, constant({1.0}, {1})).backward();
    TG_CHECK_VALUES(z.grad(), {0.0});
  }
}

TEST_CASE("regression losses pass gradcheck in f64 for input and target") {
  tg::manual_seed(11);
  for (Reduction reduction : {Reduction::mean, Reduction::sum, Reduction::none}) {
    CAPTURE(static_cast<int>(reduction));
    TG_CHECK_GRADCHECK(
        [reduction](const std::vector<tg::Tensor>& in) {
          return tg::F::mse_loss(in[0], in[1], reduction);
        },
        f64_pair({3, 4}));
    TG_CHECK_GRADCHECK(
        [reduction](const std::vector<tg::Tensor>& in) {
          return tg::F::l1_loss(in[0], in[1], reduction);
        },
        f64_pair({5}));
    TG_CHECK_GRADCHECK(
        [reduction](const std::vector<tg::Tensor>& in) {
          return tg::F::huber_loss(in[0], in[1], 0.7, reduction);
        },
        f64_pair({2, 5}));
  }
}

TEST_CASE("mse_loss, one fused record, passes gradgradcheck and is one record on the tape") {
  tg::manual_seed(12);
  for (Reduction reduction : {Reduction::mean, Reduction::sum, Reduction::none}) {
    CAPTURE(static_cast<int>(reduction));
    const auto mse = [reduction](const std::vector<tg::Tensor>& in) {
      return tg::mse_loss(in[0], in[1], reduction);
    };
    const auto second = tg::gradgradcheck(mse, f64_pair({3, 2}));
    CHECK_MESSAGE(second.ok, second.report);
  }
  const std::vector<tg::Tensor> in = f64_pair({4});
  const std::string tape = tg::autograd::format_tape(tg::mse_loss(in[0], in[1]));
  CAPTURE(tape);
  CHECK(tape.find("#1  mse_loss(leaf 0, leaf 1)") != std::string::npos);
  CHECK(tape.find("#2") == std::string::npos);
}

TEST_CASE("mse_loss of integer or mixed dtypes follows the ops' promotion") {
  const tg::Tensor a = tg::tensor({1.0, 4.0}, {2}, {.dtype = tg::f32});
  const tg::Tensor b = tg::tensor({3.0, 1.0}, {2}, {.dtype = tg::f64});
  const tg::Tensor loss = tg::F::mse_loss(a, b);  // ((−2)² + 3²) / 2, in f64 as a − b is
  CHECK(loss.dtype() == tg::f64);
  CHECK(loss.item() == 6.5);
}

TEST_CASE("regression losses reject mismatched shapes and a non-positive delta") {
  const tg::Tensor x = constant({1, 2, 3}, {3});
  const tg::Tensor y = constant({1, 2, 3}, {3, 1});
  TG_CHECK_ERROR(tg::F::mse_loss(x, y), "mse_loss", "[3]", "[3, 1]");
  TG_CHECK_ERROR(tg::F::l1_loss(x, y), "l1_loss", "[3]", "[3, 1]");
  TG_CHECK_ERROR(tg::F::huber_loss(x, y), "huber_loss", "[3]", "[3, 1]");
  TG_CHECK_ERROR(tg::F::huber_loss(x, x, 0.0), "huber_loss", "delta", "0");
  TG_CHECK_ERROR(tg::F::huber_loss(x, x, -1.0), "huber_loss", "delta", "-1");
  TG_CHECK_ERROR(tg::F::mse_loss(x, tg::Tensor()), "mse_loss", "defined");
}
