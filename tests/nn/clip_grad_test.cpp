// clip_grad_norm_ and clip_grad_value_: the returned norm, in-place scaling, skipped and
// non-finite gradients, errors.
#include <limits>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::leaf;

namespace {
// A leaf of `values` whose grad() is `gradient` (via one backward of Σ θ·gradient).
tg::Tensor with_grad(std::vector<double> values, std::vector<double> gradient,
                     tg::DType dtype = tg::f64) {
  const tg::Shape shape = {static_cast<int64_t>(values.size())};
  tg::Tensor param = tg::tensor(std::move(values), shape, {.dtype = dtype, .requires_grad = true});
  (param * tg::tensor(std::move(gradient), shape, {.dtype = dtype})).sum().backward();
  return param;
}
}  // namespace

TEST_CASE("clip_grad_norm_ returns the total L2 norm of the gradients") {
  tg::Tensor p = with_grad({0, 0}, {3, 4});
  CHECK(tg::nn::clip_grad_norm_({p}, 10.0) == doctest::Approx(5.0));  // √(9 + 16)
  TG_CHECK_VALUES(p.grad(), {3, 4});                                  // 10 / 5 ≥ 1: untouched
}

TEST_CASE("clip_grad_norm_ scales every gradient to max_norm, across parameters") {
  tg::Tensor a = with_grad({0}, {3});
  tg::Tensor b = with_grad({0, 0}, {0, -4});
  const double norm = tg::nn::clip_grad_norm_({a, b}, 1.0);
  CHECK(norm == doctest::Approx(5.0));
  // coefficient 1 / (5 + 1e-6): [3, 0, −4] / 5
  const double c = 1.0 / (5.0 + 1e-6);
  TG_CHECK_VALUES(a.grad(), {3 * c});
  TG_CHECK_VALUES(b.grad(), {0, -4 * c});
  // the clipped gradients now have norm max_norm (up to the 1e-6 guard)
  CHECK(tg::nn::clip_grad_norm_({a, b}, 100.0) == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm_ skips parameters without a gradient") {
  tg::Tensor a = with_grad({0, 0}, {3, 4});
  tg::Tensor no_grad = leaf({1, 2}, {2});
  const tg::Tensor frozen = tg::ones({2}, {.dtype = tg::f64});
  CHECK(tg::nn::clip_grad_norm_({no_grad, a, frozen, tg::Tensor()}, 2.5) == doctest::Approx(5.0));
  CHECK_FALSE(no_grad.grad().defined());
  TG_CHECK_VALUES_TOL(a.grad(), 1e-6, {1.5, 2.0});  // × 2.5 / 5
  CHECK(tg::nn::clip_grad_norm_({}, 1.0) == 0.0);
}

TEST_CASE("clip_grad_norm_ works on f32 gradients") {
  tg::Tensor p = with_grad({0, 0}, {6, 8}, tg::f32);
  CHECK(tg::nn::clip_grad_norm_({p}, 5.0) == doctest::Approx(10.0));
  TG_CHECK_VALUES_TOL(p.grad(), 1e-5, {3, 4});  // × 5 / 10
}

TEST_CASE("clip_grad_norm_ with other norm types") {
  SUBCASE("infinity: the largest |g|") {
    tg::Tensor p = with_grad({0, 0}, {3, -4});
    CHECK(tg::nn::clip_grad_norm_({p}, 2.0, std::numeric_limits<double>::infinity()) ==
          doctest::Approx(4.0));
    TG_CHECK_VALUES_TOL(p.grad(), 1e-6, {1.5, -2.0});  // × 2 / 4
  }
  SUBCASE("1: the sum of |g|") {
    tg::Tensor p = with_grad({0, 0}, {3, -4});
    CHECK(tg::nn::clip_grad_norm_({p}, 7.0, 1.0) == doctest::Approx(7.0));
    TG_CHECK_VALUES_TOL(p.grad(), 1e-6, {3, -4});  // 7 / (7 + 1e-6) ≈ 1
  }
}

TEST_CASE("a non-finite total norm is returned and the gradients are left untouched") {
  const double inf = std::numeric_limits<double>::infinity();
  SUBCASE("Inf") {
    tg::Tensor p = with_grad({0, 0}, {inf, 1});
    CHECK(std::isinf(tg::nn::clip_grad_norm_({p}, 1.0)));
    const std::vector<double> g = p.grad().to_vector();
    CHECK(std::isinf(g[0]));
    CHECK(g[1] == 1.0);
  }
  SUBCASE("NaN") {
    tg::Tensor p = with_grad({0, 0}, {std::numeric_limits<double>::quiet_NaN(), 2});
    CHECK(std::isnan(tg::nn::clip_grad_norm_({p}, 1.0)));
    CHECK(p.grad().to_vector()[1] == 2.0);
  }
}

TEST_CASE("clip_grad_norm_ rejects a negative max_norm and a non-positive norm_type") {
  tg::Tensor p = with_grad({0}, {1});
  TG_CHECK_ERROR(tg::nn::clip_grad_norm_({p}, -1.0), "clip_grad_norm_", "max_norm", "-1");
  TG_CHECK_ERROR(tg::nn::clip_grad_norm_({p}, 1.0, 0.0), "clip_grad_norm_", "norm_type");
}

TEST_CASE("clip_grad_value_ clamps each gradient element into [−v, v]") {
  tg::Tensor p = with_grad({0, 0, 0}, {3, -4, 0.5});
  tg::Tensor no_grad = leaf({1}, {1});
  tg::nn::clip_grad_value_({p, no_grad}, 1.0);
  TG_CHECK_VALUES(p.grad(), {1, -1, 0.5});
  CHECK_FALSE(no_grad.grad().defined());
  TG_CHECK_ERROR(tg::nn::clip_grad_value_({p}, -0.5), "clip_grad_value_", "-0.5");
}
