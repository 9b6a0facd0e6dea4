// Tensor creation, accessors, conversion and the seeded global generator.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "support/testing.hpp"

TEST_CASE("creation functions give the documented shapes, dtypes and values") {
  const tg::Tensor t = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == tg::Shape{2, 3});
  CHECK(t.dim() == 2);
  CHECK(t.numel() == 6);
  CHECK(t.dtype() == tg::f32);
  CHECK(t.size(-1) == 3);
  TG_CHECK_VALUES(t, {1, 2, 3, 4, 5, 6});

  const tg::Tensor s = tg::scalar(2.5, {.dtype = tg::f64});
  CHECK(s.dim() == 0);
  CHECK(s.numel() == 1);
  CHECK(s.item() == 2.5);

  TG_CHECK_VALUES(tg::zeros({2}), {0, 0});
  TG_CHECK_VALUES(tg::ones({2}, {.dtype = tg::i64}), {1, 1});
  TG_CHECK_VALUES(tg::full({3}, 7.0, {.dtype = tg::f64}), {7, 7, 7});
  const tg::Tensor range = tg::arange(4);
  CHECK(range.dtype() == tg::i64);
  TG_CHECK_VALUES(range, {0, 1, 2, 3});
  TG_CHECK_VALUES(tg::tensor({1.5, -2.0}), {1.5, -2.0});
}

TEST_CASE("data<T> exposes the tensor's own storage") {
  tg::Tensor t = tg::zeros({3}, {.dtype = tg::f64});
  double* data = t.data<double>();
  data[1] = 4.0;
  TG_CHECK_VALUES(t, {0, 4, 0});
  const tg::Tensor shared = t;  // a copy of the handle shares the data
  data[2] = 5.0;
  TG_CHECK_VALUES(shared, {0, 4, 5});
}

TEST_CASE("to converts between dtypes and is differentiable between f32 and f64") {
  const tg::Tensor i = tg::tensor({1, 2}, {.dtype = tg::i64});
  CHECK(i.to(tg::f32).dtype() == tg::f32);
  tg::Tensor x = tg::tensor({1.5, 2.5}, {.dtype = tg::f32, .requires_grad = true});
  const tg::Tensor y = x.to(tg::f64);
  CHECK(y.dtype() == tg::f64);
  (y * y).sum().backward();  // d(x²)/dx = 2x, arriving back in f32
  CHECK(x.grad().dtype() == tg::f32);
  TG_CHECK_VALUES(x.grad(), {3, 5});
}

TEST_CASE("detach shares data without history, and clone copies with history") {
  tg::Tensor x = tg::tensor({1, 2}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor y = x * 2.0;
  tg::Tensor d = y.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.is_leaf());
  d.data<double>()[0] = 10;
  CHECK(y.to_vector()[0] == 10);
  const tg::Tensor c = x.clone();
  CHECK(c.requires_grad());
  c.sum().backward();
  TG_CHECK_VALUES(x.grad(), {1, 1});
}

TEST_CASE("manual_seed makes rand, randn, randint and randperm reproducible") {
  tg::manual_seed(42);
  const auto first = tg::randn({5}).to_vector();
  const auto first_int = tg::randint(0, 10, {5}).to_vector();
  tg::manual_seed(42);
  CHECK(tg::randn({5}).to_vector() == first);
  CHECK(tg::randint(0, 10, {5}).to_vector() == first_int);
  CHECK(tg::randn({5}).to_vector() != first);
}

TEST_CASE("random tensors have the documented distributions") {
  tg::manual_seed(7);
  const int64_t n = 200000;
  // Tolerances are about eight standard errors of each statistic at this n.
  const std::vector<double> u = tg::rand({n}, {.dtype = tg::f64}).to_vector();
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
  const double u_mean = std::accumulate(u.begin(), u.end(), 0.0) / n;
  CHECK(std::abs(u_mean - 0.5) < 0.006);  // σ = √(1/12) ≈ 0.289; σ/√n ≈ 6.5e-4

  const tg::Tensor z = tg::randn({n}, {.dtype = tg::f64});
  const double z_mean = z.mean().item();
  const double z_var = ((z - z_mean) * (z - z_mean)).mean().item();
  CHECK(std::abs(z_mean) < 0.02);       // σ/√n ≈ 2.2e-3
  CHECK(std::abs(z_var - 1.0) < 0.03);  // sd of the variance ≈ √(2/n) ≈ 3.2e-3

  const std::vector<double> k = tg::randint(-3, 4, {n}).to_vector();
  CHECK(*std::min_element(k.begin(), k.end()) == -3);
  CHECK(*std::max_element(k.begin(), k.end()) == 3);

  std::vector<double> perm = tg::randperm(1000).to_vector();
  std::sort(perm.begin(), perm.end());
  std::vector<double> expected(1000);
  std::iota(expected.begin(), expected.end(), 0.0);
  CHECK(perm == expected);
}

TEST_CASE("arange with start, end and step follows PyTorch's length rule") {
  TG_CHECK_VALUES(tg::arange(0.0, 5.0), {0, 1, 2, 3, 4});
  CHECK(tg::arange(0.0, 5.0).dtype() == tg::f32);
  // ceil((1 − 0) / 0.3) = 4 values
  TG_CHECK_VALUES_TOL(tg::arange(0.0, 1.0, 0.3, {.dtype = tg::f64}), 1e-15, {0, 0.3, 0.6, 0.9});
  TG_CHECK_VALUES(tg::arange(5.0, 1.0, -2.0, {.dtype = tg::f64}), {5, 3});
  CHECK(tg::arange(2.0, 2.0).numel() == 0);
  TG_CHECK_VALUES(tg::arange(1.0, 4.0, 1.0, {.dtype = tg::i64}), {1, 2, 3});
  CHECK(tg::arange(3).dtype() == tg::i64);  // arange(n) stays i64
  TG_CHECK_ERROR(tg::arange(0.0, 1.0, 0.0), "arange", "step must be nonzero");
  TG_CHECK_ERROR(tg::arange(0.0, 1.0, -1.0), "arange", "step -1", "end 1");
}

TEST_CASE("linspace includes both ends, eye is the identity") {
  TG_CHECK_VALUES(tg::linspace(0.0, 1.0, 5, {.dtype = tg::f64}), {0, 0.25, 0.5, 0.75, 1});
  TG_CHECK_VALUES(tg::linspace(-1.0, 1.0, 1, {.dtype = tg::f64}), {-1});
  CHECK(tg::linspace(0.0, 1.0, 0).numel() == 0);
  TG_CHECK_VALUES(tg::linspace(3.0, -3.0, 4, {.dtype = tg::f64}), {3, 1, -1, -3});
  TG_CHECK_ERROR(tg::linspace(0.0, 1.0, -1), "linspace", "-1");
  const tg::Tensor i = tg::eye(3, {.dtype = tg::f64});
  CHECK(i.shape() == tg::Shape{3, 3});
  TG_CHECK_VALUES(i, {1, 0, 0, 0, 1, 0, 0, 0, 1});
  CHECK(tg::eye(2, {.requires_grad = true}).requires_grad());
  TG_CHECK_ERROR(tg::eye(-2), "eye", "-2");
}

TEST_CASE("the *_like family takes the shape and dtype, never the history") {
  const tg::Tensor t = tg::testing::leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  for (const tg::Tensor& made : {tg::zeros_like(t), tg::ones_like(t), tg::full_like(t, 2.5),
                                 tg::rand_like(t), tg::randn_like(t)}) {
    CHECK(made.shape() == t.shape());
    CHECK(made.dtype() == tg::f64);
    CHECK_FALSE(made.requires_grad());
  }
  TG_CHECK_VALUES(tg::full_like(t, 2.5), {2.5, 2.5, 2.5, 2.5, 2.5, 2.5});
  SUBCASE("rand_like draws from the global generator as rand does") {
    tg::manual_seed(3);
    const tg::Tensor r = tg::rand_like(t);
    tg::manual_seed(3);
    TG_CHECK_VALUES(r, tg::rand({2, 3}, {.dtype = tg::f64}).to_vector());
  }
  TG_CHECK_ERROR(tg::rand_like(tg::arange(3)), "rand_like", "i64");
  TG_CHECK_ERROR(tg::randn_like(tg::arange(3)), "randn_like", "i64");
}

TEST_CASE("item<T> gives the single element in T, exactly for large i64") {
  tg::Tensor n = tg::zeros({1}, {.dtype = tg::i64});
  n.data<int64_t>()[0] = (int64_t{1} << 60) + 1;  // not representable as a double
  CHECK(n.item<int64_t>() == (int64_t{1} << 60) + 1);
  CHECK(tg::scalar(2.5, {.dtype = tg::f64}).item<float>() == 2.5f);
  CHECK(tg::scalar(-3.75).item<double>() == -3.75);
  CHECK(tg::scalar(-3.75).item<int64_t>() == -3);
  TG_CHECK_ERROR(tg::zeros({2}).item<double>(), "item", "[2]", "2 elements");
}
