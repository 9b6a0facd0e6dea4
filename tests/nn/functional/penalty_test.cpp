// l1_penalty and l2_penalty: values, gradients, gradcheck and errors.
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::leaf;

TEST_CASE("l1_penalty sums |θ| over every parameter with gradient sign(θ), 0 at 0") {
  tg::Tensor a = leaf({1, -2, 0}, {3});
  tg::Tensor b = leaf({0.5, -0.5}, {2, 1});
  const tg::Tensor penalty = tg::F::l1_penalty({a, b});
  CHECK(penalty.dim() == 0);
  TG_CHECK_VALUES(penalty, {4.0});  // 1 + 2 + 0 + 0.5 + 0.5
  penalty.backward();
  TG_CHECK_VALUES(a.grad(), {1, -1, 0});
  TG_CHECK_VALUES(b.grad(), {1, -1});
}

TEST_CASE("l2_penalty sums θ² (no ½) with gradient 2θ") {
  tg::Tensor a = leaf({1, -2, 0}, {3});
  tg::Tensor b = leaf({0.5, -0.5}, {2, 1});
  const tg::Tensor penalty = tg::F::l2_penalty({a, b});
  CHECK(penalty.dim() == 0);
  TG_CHECK_VALUES(penalty, {5.5});  // 1 + 4 + 0 + 0.25 + 0.25
  penalty.backward();
  TG_CHECK_VALUES(a.grad(), {2, -4, 0});
  TG_CHECK_VALUES(b.grad(), {1, -1});
}

TEST_CASE("a penalty adds to a loss as a regularisation term") {
  tg::Tensor w = leaf({2, -1}, {2});
  const tg::Tensor x = tg::tensor({1, 1}, {2}, {.dtype = tg::f64});
  // mse of w against x: ((2−1)² + (−1−1)²)/2 = 2.5;  0.1·(4 + 1) = 0.5
  const tg::Tensor loss = tg::F::mse_loss(w, x) + 0.1 * tg::F::l2_penalty({w});
  TG_CHECK_VALUES(loss, {3.0});
  loss.backward();
  // (w − x) + 0.2w = [1 + 0.4, −2 − 0.2]
  TG_CHECK_VALUES(w.grad(), {1.4, -2.2});
}

TEST_CASE("penalties of no parameters are a 0-D zero") {
  CHECK(tg::F::l1_penalty({}).dim() == 0);
  CHECK(tg::F::l1_penalty({}).item() == 0.0);
  CHECK(tg::F::l2_penalty({}).item() == 0.0);
}

TEST_CASE("penalties pass gradcheck in f64") {
  tg::manual_seed(17);
  const tg::Tensor a = tg::randn({3, 2}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor b = tg::randn({4}, {.dtype = tg::f64, .requires_grad = true});
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::F::l1_penalty(in); },
                     {a, b});
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::F::l2_penalty(in); },
                     {a, b});
}

TEST_CASE("penalties reject undefined and i64 parameters") {
  const tg::Tensor a = tg::ones({2}, {.dtype = tg::f64});
  TG_CHECK_ERROR(tg::F::l1_penalty({a, tg::Tensor()}), "l1_penalty", "parameter 1");
  TG_CHECK_ERROR(tg::F::l2_penalty({tg::arange(3)}), "l2_penalty", "i64", "[3]");
}
