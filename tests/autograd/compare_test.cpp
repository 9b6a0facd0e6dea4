// Comparisons (0/1 in the inputs' dtype, broadcast, never recorded), their operators, and where.
#include "support/testing.hpp"

TEST_CASE("comparisons give 0 or 1 in the inputs' dtype") {
  const tg::Tensor a = tg::tensor({1, 2, 3}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({2, 2, 2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::eq(a, b), {0, 1, 0});
  TG_CHECK_VALUES(tg::ne(a, b), {1, 0, 1});
  TG_CHECK_VALUES(tg::lt(a, b), {1, 0, 0});
  TG_CHECK_VALUES(tg::le(a, b), {1, 1, 0});
  TG_CHECK_VALUES(tg::gt(a, b), {0, 0, 1});
  TG_CHECK_VALUES(tg::ge(a, b), {0, 1, 1});
  CHECK(tg::eq(a, b).dtype() == tg::f64);
}

TEST_CASE("comparisons broadcast and count hits of argmax against labels") {
  const tg::Tensor logits = tg::tensor({0.1, 0.9, 0.8, 0.2, 0.3, 0.7}, {3, 2});
  const tg::Tensor labels = tg::tensor({1, 1, 1}, {3}, {.dtype = tg::i64});
  const tg::Tensor hits = tg::eq(logits.argmax(1), labels);
  CHECK(hits.dtype() == tg::i64);
  CHECK(hits.sum().item() == 2);  // argmax = 1, 0, 1
  const tg::Tensor column = tg::tensor({1, 3}, {2, 1}, {.dtype = tg::f64});
  const tg::Tensor row = tg::tensor({1, 2, 3}, {1, 3}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::le(column, row), {1, 1, 1, 0, 0, 1});
}

TEST_CASE("comparisons do not record and carry no gradient") {
  const tg::Tensor a = tg::tensor({1, 2}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor mask = tg::gt(a, tg::scalar(1.5, {.dtype = tg::f64}));
  CHECK_FALSE(mask.requires_grad());
  CHECK(mask.is_leaf());
}

TEST_CASE("comparisons with a double give 0 or 1 in the tensor's dtype") {
  const tg::Tensor a = tg::tensor({-1.0, 0.0, 2.5}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::gt(a, 0.0), {0, 0, 1});
  TG_CHECK_VALUES(tg::ge(a, 0.0), {0, 1, 1});
  TG_CHECK_VALUES(tg::lt(a, 0.0), {1, 0, 0});
  TG_CHECK_VALUES(tg::le(a, 0.0), {1, 1, 0});
  TG_CHECK_VALUES(tg::eq(a, 2.5), {0, 0, 1});
  TG_CHECK_VALUES(tg::ne(a, 2.5), {1, 1, 0});
  CHECK(tg::gt(a, 0.0).dtype() == tg::f64);
  SUBCASE("an f32 tensor reads the double in f32, as PyTorch reads a scalar") {
    const tg::Tensor x = tg::tensor({0.1f});  // 0.1f is 0.10000000149 > 0.1
    TG_CHECK_VALUES(tg::eq(x, 0.1), {1});
    TG_CHECK_VALUES(tg::gt(x, 0.1), {0});
    CHECK(tg::eq(x, 0.1).dtype() == tg::f32);
  }
  SUBCASE("an i64 tensor keeps its dtype, and meets a fraction exactly") {
    const tg::Tensor n = tg::tensor({1, 2}, {.dtype = tg::i64});
    TG_CHECK_VALUES(tg::lt(n, 1.5), {1, 0});
    CHECK(tg::lt(n, 1.5).dtype() == tg::i64);
    TG_CHECK_VALUES(tg::eq(n, 2.0), {0, 1});
  }
}

TEST_CASE("comparison operators between tensors and with doubles") {
  const tg::Tensor a = tg::tensor({1, 2, 3}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({2, 2, 2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(a == b, {0, 1, 0});
  TG_CHECK_VALUES(a != b, {1, 0, 1});
  TG_CHECK_VALUES(a < b, {1, 0, 0});
  TG_CHECK_VALUES(a <= b, {1, 1, 0});
  TG_CHECK_VALUES(a > b, {0, 0, 1});
  TG_CHECK_VALUES(a >= b, {0, 1, 1});
  TG_CHECK_VALUES(a > 1.5, {0, 1, 1});
  TG_CHECK_VALUES(a <= 2.0, {1, 1, 0});
  TG_CHECK_VALUES(a == 3.0, {0, 0, 1});
  TG_CHECK_VALUES(a != 3.0, {1, 1, 0});
  TG_CHECK_VALUES(a < 2.0, {1, 0, 0});
  TG_CHECK_VALUES(a >= 2.0, {0, 1, 1});
  // A double on the left mirrors the comparison: 1.5 < a is a > 1.5.
  TG_CHECK_VALUES(1.5 < a, {0, 1, 1});
  TG_CHECK_VALUES(2.0 >= a, {1, 1, 0});
  TG_CHECK_VALUES(2.0 > a, {1, 0, 0});
  TG_CHECK_VALUES(2.0 <= a, {0, 1, 1});
  TG_CHECK_VALUES(3.0 == a, {0, 0, 1});
  TG_CHECK_VALUES(3.0 != a, {1, 1, 0});
  SUBCASE("they broadcast and are not recorded") {
    const tg::Tensor x = tg::testing::leaf({1, 2, 3, 4}, {2, 2});
    const tg::Tensor c = x > tg::tensor({1.5, 3.5}, {.dtype = tg::f64});
    TG_CHECK_VALUES(c, {0, 0, 1, 1});  // [1 > 1.5, 2 > 3.5, 3 > 1.5, 4 > 3.5]
    CHECK_FALSE(c.requires_grad());
  }
}

TEST_CASE("where picks a where cond is nonzero, b elsewhere, with broadcasting") {
  const tg::Tensor cond = tg::tensor({1, 0, 2}, {.dtype = tg::i64});
  const tg::Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  const tg::Tensor b = tg::scalar(-1.0, {.dtype = tg::f64});
  const tg::Tensor out = tg::where(cond, a, b);
  CHECK(out.shape() == tg::Shape{2, 3});
  TG_CHECK_VALUES(out, {1, -1, 3, 4, -1, 6});
  SUBCASE("f32 with f64 gives f64, as the arithmetic ops promote") {
    CHECK(tg::where(cond, a.to(tg::f32), b).dtype() == tg::f64);
  }
  SUBCASE("a NaN condition counts as nonzero, as in PyTorch") {
    TG_CHECK_VALUES(tg::where(tg::tensor({NAN}, {.dtype = tg::f64}), b, a.sum()), {-1});
  }
}

TEST_CASE("where sends the gradient to the side it took, summed back over broadcasting") {
  tg::Tensor a = tg::testing::leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  tg::Tensor b = tg::testing::leaf({10, 20, 30}, {3});
  const tg::Tensor cond = tg::tensor({1, 0, 1, 0, 0, 1}, {2, 3}, {.dtype = tg::f64});
  tg::where(cond, a, b).sum().backward();
  TG_CHECK_VALUES(a.grad(), {1, 0, 1, 0, 0, 1});
  TG_CHECK_VALUES(b.grad(), {1, 2, 0});
  SUBCASE("an Inf in the gradient stays on its side instead of making 0·Inf = NaN") {
    tg::Tensor x = tg::testing::leaf({1.0, 2.0}, {2});
    tg::Tensor y = tg::testing::leaf({3.0, 4.0}, {2});
    const tg::Tensor picked = tg::where(tg::tensor({1.0, 0.0}, {.dtype = tg::f64}), x, y);
    picked.backward(tg::tensor({INFINITY, 1.0}, {.dtype = tg::f64}));
    const std::vector<double> gx = x.grad().to_vector();
    CHECK(gx[0] == INFINITY);
    CHECK(gx[1] == 0.0);
    TG_CHECK_VALUES(y.grad(), {0.0, 1.0});
  }
}

TEST_CASE("where passes gradcheck and gradgradcheck with broadcasting") {
  tg::manual_seed(11);
  const tg::Tensor cond = tg::gt(tg::rand({3, 4}, {.dtype = tg::f64}), 0.5);
  const tg::Shape shapes[][2] = {{{3, 4}, {3, 4}}, {{4}, {3, 1}}, {{}, {1, 4}}};
  for (const auto& pair : shapes) {
    const tg::Tensor a = tg::testing::uniform(pair[0], -1.0, 1.0);
    const tg::Tensor b = tg::testing::uniform(pair[1], -1.0, 1.0);
    auto f = [&](const std::vector<tg::Tensor>& in) {
      return tg::where(cond, in[0] * in[0], in[1] * in[0].sum());
    };
    TG_CHECK_GRADCHECK(f, {a, b});
    const auto second = tg::gradgradcheck(f, {a, b});
    CHECK_MESSAGE(second.ok, second.report);
  }
}

TEST_CASE("where names itself and the shapes that do not broadcast") {
  const tg::Tensor a = tg::zeros({2, 3});
  TG_CHECK_ERROR(tg::where(tg::zeros({4}), a, a), "where", "[4]", "[2, 3]");
}
