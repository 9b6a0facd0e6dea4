// Tensor::retain_grad: a non-leaf keeps the gradient that reached it, as PyTorch's retain_grad.
#include "support/testing.hpp"

using tg::testing::leaf;

TEST_CASE("retain_grad keeps an intermediate's gradient after backward") {
  // y = x², z = 3y + y² at x = 2: y = 4, dz/dy = 3 + 2y = 11 and dz/dx = 11·2x = 44.
  tg::Tensor x = leaf({2.0}, {1});
  tg::Tensor y = x * x;
  tg::Tensor untouched = x * x;  // never retained: stays without a gradient
  y.retain_grad();
  CHECK(y.retains_grad());
  CHECK_FALSE(untouched.retains_grad());
  tg::Tensor z = tg::sum(y * 3.0 + y * y + untouched * 0.0);
  z.backward();
  REQUIRE(y.grad().defined());
  CHECK(y.grad().to_vector() == std::vector<double>{11.0});
  CHECK(x.grad().to_vector() == std::vector<double>{44.0});
  CHECK_FALSE(untouched.grad().defined());
  CHECK_FALSE(y.grad().requires_grad());
}

TEST_CASE("a retained gradient has the tensor's shape and sums over backward calls") {
  // s = Σ w·h with h = 2x: dh = w, for every element; twice over, 2w.
  tg::Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  tg::Tensor w = leaf({0.5, -1.0, 4.0}, {3});
  tg::Tensor h = x * 2.0;
  h.retain_grad();
  tg::Tensor s = tg::sum(w * h);
  s.backward({.retain_graph = true});
  CHECK(h.grad().shape() == tg::Shape{3});
  CHECK(h.grad().to_vector() == std::vector<double>{0.5, -1.0, 4.0});
  s.backward();
  CHECK(h.grad().to_vector() == std::vector<double>{1.0, -2.0, 8.0});
  h.zero_grad();
  CHECK_FALSE(h.grad().defined());
}

TEST_CASE("retain_grad on a leaf changes nothing, and a dropped intermediate is not kept alive") {
  tg::Tensor x = leaf({3.0}, {1});
  x.retain_grad();
  CHECK_FALSE(x.retains_grad());  // PyTorch's retains_grad is false for leaves
  tg::Tensor out;
  {
    tg::Tensor inner = x * x;
    inner.retain_grad();
    out = tg::sum(inner * 2.0);
  }
  out.backward();  // the record outlives its output tensor; backward must still run
  CHECK(x.grad().to_vector() == std::vector<double>{12.0});
}

TEST_CASE("retain_grad refuses a tensor that does not require grad") {
  tg::Tensor c = tg::tensor({1.0, 2.0}, {.dtype = tg::f64});
  CHECK_THROWS_AS(c.retain_grad(), tg::Error);
  CHECK_THROWS_WITH_AS(c.retain_grad(), doctest::Contains("retain_grad"), tg::Error);
  CHECK_THROWS_WITH_AS(c.retain_grad(), doctest::Contains("[2]"), tg::Error);
}
