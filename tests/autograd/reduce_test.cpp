// Reductions: sum, mean, max (full and along a dim, keepdim, negative dims) and argmax.
#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

TEST_CASE("full reductions give 0-D tensors") {
  const tg::Tensor x = tg::tensor({1, 5, 3, 2, 4, 6}, {2, 3}, {.dtype = tg::f64});
  CHECK(x.sum().shape() == tg::Shape{});
  CHECK(x.sum().item() == 21);
  CHECK(x.mean().item() == 3.5);
  CHECK(x.max().item() == 6);
}

TEST_CASE("reductions along a dim, with and without keepdim, and with negative dims") {
  const tg::Tensor x = tg::tensor({1, 5, 3, 2, 4, 6}, {2, 3}, {.dtype = tg::f64});
  TG_CHECK_VALUES(x.sum(0), {3, 9, 9});
  TG_CHECK_VALUES(x.sum(1), {9, 12});
  CHECK(x.sum(1, true).shape() == tg::Shape{2, 1});
  TG_CHECK_VALUES(x.sum(-1), {9, 12});
  TG_CHECK_VALUES(x.mean(0), {1.5, 4.5, 4.5});
  TG_CHECK_VALUES(x.mean(-1, true), {3, 4});
  CHECK(x.mean(-1, true).shape() == tg::Shape{2, 1});
  TG_CHECK_VALUES(x.max(1), {5, 6});
  TG_CHECK_VALUES(x.max(0), {2, 5, 6});
  CHECK(x.max(0, true).shape() == tg::Shape{1, 3});
}

TEST_CASE("argmax returns i64 indices without a gradient") {
  const tg::Tensor x =
      tg::tensor({1, 5, 3, 7, 4, 6}, {2, 3}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor index = x.argmax(1);
  CHECK(index.dtype() == tg::i64);
  CHECK_FALSE(index.requires_grad());
  TG_CHECK_VALUES(index, {1, 0});
  TG_CHECK_VALUES(x.argmax(0), {1, 0, 1});
  TG_CHECK_VALUES(x.argmax(-1), {1, 0});
}

TEST_CASE("the gradient of sum is ones, of mean 1/n, of max one-hot at the maximum") {
  tg::Tensor x = leaf({1, 5, 3, 2, 4, 6}, {2, 3});
  SUBCASE("sum") {
    x.sum().backward();
    TG_CHECK_VALUES(x.grad(), {1, 1, 1, 1, 1, 1});
  }
  SUBCASE("mean over dim 1") {
    x.mean(1).sum().backward();  // each row's mean weighs its elements by 1/3
    TG_CHECK_VALUES(x.grad(), {1. / 3, 1. / 3, 1. / 3, 1. / 3, 1. / 3, 1. / 3});
  }
  SUBCASE("max over dim 0") {
    x.max(0).sum().backward();  // column maxima: 2 (row 1), 5 (row 0), 6 (row 1)
    TG_CHECK_VALUES(x.grad(), {0, 1, 0, 1, 0, 1});
  }
  SUBCASE("full max") {
    x.max().backward();
    TG_CHECK_VALUES(x.grad(), {0, 0, 0, 0, 0, 1});
  }
}

TEST_CASE("reductions pass gradcheck over several shapes and dims") {
  tg::manual_seed(7);
  const tg::Tensor x = uniform({2, 3, 4}, -2.0, 2.0);
  for (int64_t dim = -3; dim < 3; ++dim) {
    for (bool keepdim : {false, true}) {
      CAPTURE(dim);
      CAPTURE(keepdim);
      TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return in[0].sum(dim, keepdim); },
                         {x});
      TG_CHECK_GRADCHECK(
          [&](const std::vector<tg::Tensor>& in) { return in[0].mean(dim, keepdim); }, {x});
      // Samples of a continuous distribution: no ties for the maximum.
      TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return in[0].max(dim, keepdim); },
                         {x});
    }
  }
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return in[0].sum(); }, {x});
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return in[0].mean(); }, {x});
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return in[0].max(); }, {x});
}

TEST_CASE_TEMPLATE("f32 reductions agree with f64", T, float, double) {
  tg::manual_seed(8);
  const tg::Tensor x64 = tg::randn({33, 17}, {.dtype = tg::f64});
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const tg::Tensor x = x64.to(dtype);
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  CHECK(tg::testing::all_close(x.sum(0).to_vector(), x64.sum(0).to_vector(), tolerance));
  CHECK(tg::testing::all_close(x.mean(1).to_vector(), x64.mean(1).to_vector(), tolerance));
  CHECK(tg::testing::all_close(x.max(1).to_vector(), x64.max(1).to_vector(), tolerance));
  CHECK(x.sum().item() == doctest::Approx(x64.sum().item()).epsilon(1e-5));
}
