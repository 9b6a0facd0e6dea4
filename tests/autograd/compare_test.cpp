// Comparisons: eq, ne, lt, le, gt, ge give 0/1 in the inputs' dtype, broadcast, and never record.
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
