// Custom functions to second order: a saved output keeps its history (PyTorch's saved-output
// rule), mark_dirty and mark_non_differentiable.
#include <doctest/doctest.h>

#include <cmath>
#include <iomanip>
#include <tapegrad/autograd.hpp>

#include "../support/testing.hpp"
#include "tensor_impl.hpp"

namespace {

constexpr double kEps = 1e-3;

// y = sqrt(x² + eps), saving its own output as PyTorch's documentation does:
// dy/dx = x / y, so the backward reads y.
struct SmoothAbs : tg::autograd::Function<SmoothAbs> {
  static constexpr const char* name = "smooth_abs";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    tg::Tensor y = tg::sqrt(x * x + kEps);
    ctx->save_for_backward({x, y});
    return y;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const std::vector<tg::Tensor> saved = ctx->get_saved_variables();
    return {grad_outputs[0] * saved[0] / saved[1]};
  }
};

// The same with a detached copy of the output saved: the copy has no history, so a second
// derivative treats y as a constant (what every saved output got before the saved-output rule).
struct SmoothAbsDetached : tg::autograd::Function<SmoothAbsDetached> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    tg::Tensor y = tg::sqrt(x * x + kEps);
    ctx->save_for_backward({x, y.detach()});
    return y;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const std::vector<tg::Tensor> saved = ctx->get_saved_variables();
    return {grad_outputs[0] * saved[0] / saved[1]};
  }
};

// x·w written into x itself (x modified in place, declared with mark_dirty).
struct ScaleInPlace : tg::autograd::Function<ScaleInPlace> {
  static constexpr const char* name = "scale_in_place";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, tg::Tensor x, const tg::Tensor& w) {
    ctx->save_for_backward({x.clone(), w});
    x.mul_(w);
    ctx->mark_dirty({x});
    return x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const std::vector<tg::Tensor> saved = ctx->get_saved_variables();
    return {grad_outputs[0] * saved[1], grad_outputs[0] * saved[0]};
  }
};

// The index of the largest element, as a one-element f64 tensor with no gradient.
struct ArgmaxOf : tg::autograd::Function<ArgmaxOf> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    tg::Tensor out = tg::argmax(x, 0).to(tg::f64);
    ctx->mark_non_differentiable({out});
    return out;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                          std::vector<tg::Tensor> grad_outputs) {
    return {grad_outputs[0]};
  }
};

tg::Tensor smooth_abs_sum(const std::vector<tg::Tensor>& in) {
  return SmoothAbs::apply(in[0]).sum();
}

}  // namespace

TEST_CASE("a Function that saves its output has PyTorch's Hessian") {
  // d²/dx² sqrt(x² + eps) = eps / (x² + eps)^(3/2): at x = 0.5, 1e-3/0.251^1.5 = 0.0079521...;
  // at x = 1.5, 1e-3/2.251^1.5 = 0.00029610...; the Hessian of the sum is diagonal.
  const tg::Tensor x = tg::testing::leaf({0.5, 1.5}, {2});
  const tg::Tensor h =
      tg::autograd::hessian([](const tg::Tensor& v) { return SmoothAbs::apply(v).sum(); }, x);
  const double h0 = kEps / std::pow(0.25 + kEps, 1.5), h1 = kEps / std::pow(2.25 + kEps, 1.5);
  const std::vector<double> v = h.to_vector();
  MESSAGE(std::setprecision(10) << "smooth-abs Hessian: [[" << v[0] << ", " << v[1] << "], ["
                                << v[2] << ", " << v[3] << "]]  closed form: [[" << h0
                                << ", 0], [0, " << h1 << "]]");
  CHECK(h.shape() == tg::Shape{2, 2});
  TG_CHECK_VALUES(h, {h0, 0.0, 0.0, h1});
  CHECK(h0 == doctest::Approx(0.0079521).epsilon(1e-4));
  CHECK(h1 == doctest::Approx(0.00029610).epsilon(1e-3));
}

TEST_CASE("a detached copy of the output is a constant to the second derivative, as PyTorch's") {
  // d/dx (x / y) with y held fixed is 1/y: 1/sqrt(0.251) = 1.99601..., 1/sqrt(2.251) = 0.66652...
  const tg::Tensor x = tg::testing::leaf({0.5, 1.5}, {2});
  const tg::Tensor h = tg::autograd::hessian(
      [](const tg::Tensor& v) { return SmoothAbsDetached::apply(v).sum(); }, x);
  TG_CHECK_VALUES(h, {1.0 / std::sqrt(0.25 + kEps), 0.0, 0.0, 1.0 / std::sqrt(2.25 + kEps)});
}

TEST_CASE("a Function that saves its output passes gradcheck and gradgradcheck") {
  const std::vector<tg::Tensor> inputs{tg::testing::leaf({0.5, -1.5, 0.02}, {3})};
  TG_CHECK_GRADCHECK(smooth_abs_sum, inputs);
  const auto second = tg::gradgradcheck(smooth_abs_sum, inputs);
  CHECK_MESSAGE(second.ok, second.report);
}

TEST_CASE("the saved output is version-checked and its graph is freed") {
  SUBCASE("writing the output before backward throws naming the Function") {
    tg::Tensor x = tg::testing::leaf({0.5, 1.5}, {2});
    tg::Tensor y = SmoothAbs::apply(x);
    tg::Tensor loss = y.sum();
    {
      tg::NoGradGuard no_grad;
      y.detach().fill_(3.0);
    }
    const std::string message = tg::testing::error_message([&] { loss.backward(); });
    CAPTURE(message);
    CHECK(tg::testing::contains(message, "'smooth_abs'"));
    CHECK(tg::testing::contains(message, "now at version 1"));
    CHECK(tg::testing::contains(message, "at version 0 when saved"));
  }
  SUBCASE("no reference cycle: the output's record dies with the output") {
    std::weak_ptr<tg::detail::Node> alive;
    {
      tg::Tensor x = tg::testing::leaf({0.5, 1.5}, {2});
      tg::Tensor y = SmoothAbs::apply(x);
      tg::Tensor g = tg::grad({y.sum()}, {x}, {}, /*create_graph=*/true)[0];
      alive = y.impl()->grad_fn;
      CHECK_FALSE(alive.expired());
      CHECK(g.requires_grad());
    }
    CHECK(alive.expired());
  }
}

TEST_CASE("mark_dirty: the input modified in place takes the Function's history") {
  tg::Tensor x = tg::testing::constant({2.0, -1.0}, {2});
  tg::Tensor w = tg::testing::leaf({3.0, 0.5}, {2});
  const uint64_t before = x.version();
  tg::Tensor y = ScaleInPlace::apply(x, w);
  CHECK(y.impl() == x.impl());  // the same tensor, as PyTorch's
  CHECK(x.version() > before);
  TG_CHECK_VALUES(x, {6.0, -0.5});
  CHECK(x.requires_grad());
  CHECK_FALSE(x.is_leaf());
  (y * tg::testing::constant({1.0, 10.0}, {2})).sum().backward();
  TG_CHECK_VALUES(w.grad(), {2.0, -10.0});  // d/dw Σ c·x·w = c·x_original
  SUBCASE("a leaf that requires grad cannot be the dirty input") {
    tg::Tensor leaf = tg::testing::leaf({1.0, 2.0}, {2});
    TG_CHECK_ERROR(ScaleInPlace::apply(leaf, w), "scale_in_place", "leaf", "[2]");
  }
}

TEST_CASE("mark_non_differentiable: the output is not recorded") {
  tg::Tensor x = tg::testing::leaf({0.5, 2.5, 1.0}, {3});
  tg::Tensor i = ArgmaxOf::apply(x);
  CHECK_FALSE(i.requires_grad());
  CHECK(i.item() == 1.0);
}
