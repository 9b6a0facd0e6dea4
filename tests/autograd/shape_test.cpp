// Shape ops: reshape, transpose, t, unsqueeze, squeeze, cat, narrow, broadcast_to, sum_to.
#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

TEST_CASE("reshape keeps row-major order and infers one -1") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  CHECK(x.reshape({3, 2}).shape() == tg::Shape{3, 2});
  CHECK(x.reshape({-1}).shape() == tg::Shape{6});
  CHECK(x.reshape({3, -1}).shape() == tg::Shape{3, 2});
  TG_CHECK_VALUES(x.reshape({3, 2}), {1, 2, 3, 4, 5, 6});
}

TEST_CASE("transpose and t swap dims, with negative dims counted from the end") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  TG_CHECK_VALUES(x.t(), {1, 4, 2, 5, 3, 6});
  CHECK(x.t().shape() == tg::Shape{3, 2});
  TG_CHECK_VALUES(x.transpose(-1, -2), {1, 4, 2, 5, 3, 6});
  const tg::Tensor y = tg::arange(24, {.dtype = tg::f64}).reshape({2, 3, 4});
  const tg::Tensor z = y.transpose(0, 2);  // z[k][j][i] = y[i][j][k] = 12i + 4j + k
  CHECK(z.shape() == tg::Shape{4, 3, 2});
  CHECK(z.to_vector()[1] == 12);  // z[0][0][1] = y[1][0][0]
  CHECK(z.to_vector()[6] == 1);   // z[1][0][0] = y[0][0][1]
}

TEST_CASE("unsqueeze and squeeze add and remove a dim of size 1") {
  const tg::Tensor x = tg::tensor({1, 2, 3}, {.dtype = tg::f64});
  CHECK(x.unsqueeze(0).shape() == tg::Shape{1, 3});
  CHECK(x.unsqueeze(-1).shape() == tg::Shape{3, 1});
  CHECK(x.unsqueeze(1).squeeze(1).shape() == tg::Shape{3});
  CHECK(x.unsqueeze(0).squeeze(-2).shape() == tg::Shape{3});
  CHECK(x.squeeze(0).shape() == tg::Shape{3});  // not of size 1: unchanged, as PyTorch
}

TEST_CASE("cat joins along a dim and splits the gradient back") {
  tg::Tensor a = leaf({1, 2, 3, 4}, {2, 2});
  tg::Tensor b = leaf({5, 6}, {2, 1});
  const tg::Tensor joined = tg::cat({a, b}, -1);
  CHECK(joined.shape() == tg::Shape{2, 3});
  TG_CHECK_VALUES(joined, {1, 2, 5, 3, 4, 6});
  (joined * tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64})).sum().backward();
  TG_CHECK_VALUES(a.grad(), {1, 2, 4, 5});
  TG_CHECK_VALUES(b.grad(), {3, 6});
}

TEST_CASE("narrow takes a slice along a dim") {
  const tg::Tensor x = tg::arange(12, {.dtype = tg::f64}).reshape({3, 4});
  TG_CHECK_VALUES(tg::narrow(x, 1, 1, 2), {1, 2, 5, 6, 9, 10});
  TG_CHECK_VALUES(tg::narrow(x, 0, 2, 1), {8, 9, 10, 11});
}

TEST_CASE("broadcast_to copies and sum_to reduces back") {
  const tg::Tensor x = tg::tensor({1, 2}, {2, 1}, {.dtype = tg::f64});
  const tg::Tensor wide = tg::broadcast_to(x, {3, 2, 2});
  CHECK(wide.shape() == tg::Shape{3, 2, 2});
  TG_CHECK_VALUES(wide, {1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2});
  const tg::Tensor back = tg::sum_to(wide, {2, 1});
  TG_CHECK_VALUES(back, {6, 12});  // three copies of two ones each: 1·6, 2·6
  TG_CHECK_VALUES(tg::sum_to(wide, {}), {18});
}

TEST_CASE("shape ops pass gradcheck") {
  tg::manual_seed(9);
  const tg::Tensor x = uniform({2, 3, 4}, -1.0, 1.0);
  const tg::Tensor y = uniform({2, 2, 4}, -1.0, 1.0);
  auto check = [&](auto f) {
    TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return f(in[0], in[1]); }, {x, y});
  };
  SUBCASE("reshape") {
    check([](auto& a, auto&) { return a.reshape({4, -1}); });
  }
  SUBCASE("transpose") {
    check([](auto& a, auto&) { return a.transpose(0, -1); });
  }
  SUBCASE("t") {
    check([](auto& a, auto&) { return a.reshape({6, 4}).t(); });
  }
  SUBCASE("unsqueeze/squeeze") {
    check([](auto& a, auto&) { return a.unsqueeze(1).squeeze(1).unsqueeze(-1); });
  }
  SUBCASE("cat") {
    check([](auto& a, auto& b) { return tg::cat({a, b, a}, 1); });
  }
  SUBCASE("narrow") {
    check([](auto& a, auto&) { return tg::narrow(a, 2, 1, 2); });
  }
  SUBCASE("broadcast_to") {
    check([](auto& a, auto&) { return tg::broadcast_to(a.sum(1, true), {2, 5, 4}); });
  }
  SUBCASE("sum_to") {
    check([](auto& a, auto&) { return tg::sum_to(a, {3, 1}); });
  }
}
