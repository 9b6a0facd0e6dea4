// Reductions: sum, mean, max, min (full and along a dim, keepdim, negative dims), argmax,
// argmin, prod, var, std, norm, and the running sum cumsum.
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

TEST_CASE("min and argmin mirror max and argmax") {
  const tg::Tensor x = tg::tensor({4, 1, 3, 2, 5, 1}, {2, 3}, {.dtype = tg::f64});
  CHECK(x.min().shape() == tg::Shape{});
  CHECK(x.min().item() == 1);
  CHECK(x.max().item() == 5);  // over all elements, as the contract asks
  TG_CHECK_VALUES(x.min(1), {1, 1});
  TG_CHECK_VALUES(x.min(0), {2, 1, 1});
  CHECK(x.min(-1, true).shape() == tg::Shape{2, 1});
  TG_CHECK_VALUES(x.argmin(1), {1, 2});
  TG_CHECK_VALUES(x.argmin(0), {1, 0, 1});
  CHECK(x.argmin(1).dtype() == tg::i64);
  SUBCASE("ties share min's gradient; min(dim) sends it to the first") {
    tg::Tensor w = leaf({2, 1, 1}, {3});
    w.min().backward();
    TG_CHECK_VALUES(w.grad(), {0, 0.5, 0.5});
    w.zero_grad();
    w.min(0).backward();
    TG_CHECK_VALUES(w.grad(), {0, 1, 0});
  }
  SUBCASE("a NaN is the minimum, as in PyTorch") {
    const tg::Tensor n = tg::tensor({1.0, NAN, 0.0}, {.dtype = tg::f64});
    CHECK(std::isnan(n.min().item()));
    TG_CHECK_VALUES(n.argmin(0), {1});
  }
  TG_CHECK_ERROR(tg::zeros({0}).min(), "min", "[0]", "empty");
  TG_CHECK_ERROR(tg::zeros({2, 0}).argmin(1), "argmin", "empty");
  tg::manual_seed(41);
  auto f = [](const std::vector<tg::Tensor>& in) { return tg::square(in[0].min(1)) + in[0].min(); };
  TG_CHECK_GRADCHECK(f, {uniform({3, 4}, -1, 1)});
  CHECK(tg::gradgradcheck(f, {uniform({3, 4}, -1, 1)}).ok);
}

TEST_CASE("prod and its gradient, with no, one and two zeros") {
  SUBCASE("no zero: d/dx_i = prod / x_i") {
    tg::Tensor x = leaf({2, 3, 4}, {3});
    const tg::Tensor p = x.prod();
    CHECK(p.item() == 24);
    p.backward();
    TG_CHECK_VALUES(x.grad(), {12, 8, 6});
  }
  SUBCASE("one zero: only the zero gets the product of the others") {
    tg::Tensor x = leaf({2, 0, 4}, {3});
    const tg::Tensor p = x.prod();
    CHECK(p.item() == 0);
    p.backward();
    TG_CHECK_VALUES(x.grad(), {0, 8, 0});
  }
  SUBCASE("two zeros: every derivative is 0") {
    tg::Tensor x = leaf({0, 3, 0}, {3});
    x.prod().backward();
    TG_CHECK_VALUES(x.grad(), {0, 0, 0});
  }
  CHECK(tg::tensor({2, 3, -4}, {.dtype = tg::i64}).prod().item() == -24);
  CHECK(tg::zeros({0}).prod().item() == 1);
  tg::manual_seed(42);
  auto f = [](const std::vector<tg::Tensor>& in) { return in[0].prod(); };
  for (const tg::Shape& shape : {tg::Shape{}, tg::Shape{4}, tg::Shape{2, 3}}) {
    TG_CHECK_GRADCHECK(f, {uniform(shape, 0.5, 1.5)});
    CHECK(tg::gradgradcheck(f, {uniform(shape, 0.5, 1.5)}).ok);
  }
  SUBCASE("gradcheck and gradgradcheck at a single zero and at two zeros") {
    for (const std::vector<double>& values :
         {std::vector<double>{0.7, 0.0, -1.3, 0.9}, std::vector<double>{0.0, 1.1, 0.0, 0.8}}) {
      TG_CHECK_GRADCHECK(f, {leaf(values, {4})});
      const auto second = tg::gradgradcheck(f, {leaf(values, {4})});
      CHECK_MESSAGE(second.ok, second.report);
    }
  }
}

TEST_CASE("var and std, unbiased and not, whole and along a dim") {
  // values 1, 2, 3, 4: mean 2.5, squared deviations sum to 5
  const tg::Tensor x = tg::tensor({1, 2, 3, 4}, {.dtype = tg::f64});
  CHECK(x.var().item() == tg::testing::exact(5.0 / 3.0));
  CHECK(x.std().item() == tg::testing::exact(std::sqrt(5.0 / 3.0)));
  CHECK(x.var(0, false).item() == tg::testing::exact(1.25));
  CHECK(x.std(0, false).item() == tg::testing::exact(std::sqrt(1.25)));
  const tg::Tensor m = tg::tensor({1, 2, 3, 5, 5, 5}, {2, 3}, {.dtype = tg::f64});
  TG_CHECK_VALUES(m.var(1), {1, 0});
  TG_CHECK_VALUES(m.var(0), {8, 4.5, 2});
  CHECK(m.var(-1, true, true).shape() == tg::Shape{2, 1});
  CHECK(std::isnan(tg::tensor({3.0}).var().item()));  // n − 1 = 0, as PyTorch
  TG_CHECK_ERROR(tg::arange(3).var(), "var", "i64");
  tg::manual_seed(43);
  for (const tg::Shape& shape : {tg::Shape{5}, tg::Shape{2, 3}}) {
    auto f = [](const std::vector<tg::Tensor>& in) {
      return in[0].var() + in[0].std(-1).sum() + in[0].var(0, false).sum();
    };
    TG_CHECK_GRADCHECK(f, {uniform(shape, -1, 1)});
    CHECK(tg::gradgradcheck(f, {uniform(shape, -1, 1)}).ok);
  }
}

TEST_CASE("norm: p = 2 by default, 1 and infinity, with gradient 0 at 0") {
  const tg::Tensor x = tg::tensor({3, -4}, {.dtype = tg::f64});
  CHECK(x.norm().item() == tg::testing::exact(5));
  CHECK(x.norm(1).item() == 7);
  CHECK(x.norm(INFINITY).item() == 4);
  CHECK(x.norm(3).item() == tg::testing::exact(std::cbrt(27.0 + 64.0)));
  CHECK(tg::tensor({1e200, 1e200}, {.dtype = tg::f64}).norm().item() ==
        tg::testing::exact(std::sqrt(2.0) * 1e200));
  SUBCASE("the gradient at 0 is 0, PyTorch's subgradient") {
    tg::Tensor z = leaf({0, 0, 0}, {3});
    z.norm().backward();
    TG_CHECK_VALUES(z.grad(), {0, 0, 0});
    z.zero_grad();
    z.norm(3).backward();
    TG_CHECK_VALUES(z.grad(), {0, 0, 0});
  }
  SUBCASE("d‖x‖/dx = x / ‖x‖") {
    tg::Tensor w = leaf({3, -4}, {2});
    w.norm().backward();
    TG_CHECK_VALUES(w.grad(), {0.6, -0.8});
  }
  TG_CHECK_ERROR(x.norm(0.5), "norm", "0.5");
  tg::manual_seed(44);
  for (double p : {2.0, 3.0, 1.0}) {
    CAPTURE(p);
    auto f = [p](const std::vector<tg::Tensor>& in) { return in[0].norm(p); };
    TG_CHECK_GRADCHECK(f, {tg::testing::signed_away_from_zero({2, 3})});
    CHECK(tg::gradgradcheck(f, {tg::testing::signed_away_from_zero({2, 3})}).ok);
  }
}

TEST_CASE("cumsum runs along a dim and its gradient sums from the back") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::cumsum(x, 1), {1, 3, 6, 4, 9, 15});
  TG_CHECK_VALUES(tg::cumsum(x, 0), {1, 2, 3, 5, 7, 9});
  TG_CHECK_VALUES(tg::cumsum(tg::arange(4), -1), {0, 1, 3, 6});
  tg::Tensor w = leaf({1, 2, 3}, {3});
  tg::cumsum(w, 0).sum().backward();
  TG_CHECK_VALUES(w.grad(), {3, 2, 1});
  TG_CHECK_ERROR(tg::cumsum(x, 2), "cumsum", "dim 2");
  tg::manual_seed(45);
  for (int64_t dim : {0, 1, -1}) {
    auto f = [dim](const std::vector<tg::Tensor>& in) {
      return tg::square(tg::cumsum(in[0], dim));
    };
    TG_CHECK_GRADCHECK(f, {uniform({3, 4}, -1, 1)});
    CHECK(tg::gradgradcheck(f, {uniform({3, 4}, -1, 1)}).ok);
  }
}

TEST_CASE("f32 reductions agree with f64") {
  tg::manual_seed(46);
  const tg::Tensor x64 = tg::rand({4, 5}, {.dtype = tg::f64}) + 0.5;
  const tg::Tensor x32 = x64.to(tg::f32);
  const tg::Tensor back = x32.to(tg::f64);
  auto close = [](const tg::Tensor& a, const tg::Tensor& b) {
    return tg::testing::all_close(a.to_vector(), b.to_vector(), 1e-5);
  };
  CHECK(close(x32.min(1), back.min(1)));
  CHECK(close(x32.prod() / back.prod(), tg::scalar(1.0)));
  CHECK(close(x32.var(0), back.var(0)));
  CHECK(close(x32.std(), back.std()));
  CHECK(close(x32.norm(), back.norm()));
  CHECK(close(tg::cumsum(x32, 1), tg::cumsum(back, 1)));
  CHECK(x32.var(0).dtype() == tg::f32);
}
