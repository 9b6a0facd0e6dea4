// PyTorch semantics: NaN through relu/maximum/minimum/clamp, promotion by type, dims on 0-D
// tensors, broadcast matmul batches, clamp with lo > hi, second derivatives through masks, and
// error messages that name the user-level op.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <tapegrad/autograd.hpp>

#include "../support/testing.hpp"

using tg::testing::constant;
using tg::testing::contains;
using tg::testing::error_message;
using tg::testing::leaf;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

tg::Tensor gradient_of(const tg::Tensor& output, const tg::Tensor& input) {
  return tg::grad({output}, {input})[0];
}
}  // namespace

TEST_CASE("relu, leaky_relu, maximum, minimum and clamp propagate NaN, forward and backward") {
  SUBCASE("relu(NaN) is NaN and its gradient there passes through, as PyTorch's") {
    tg::Tensor x = leaf({kNaN, -1.0, 2.0}, {3});
    tg::Tensor y = tg::relu(x);
    TG_CHECK_VALUES(y, {kNaN, 0.0, 2.0});
    // PyTorch: threshold_backward zeroes the gradient where the output is <= 0, not at NaN.
    TG_CHECK_VALUES(gradient_of(y.sum(), x), {1.0, 0.0, 1.0});
  }
  SUBCASE("relu keeps NaN in f32 and i64 has none to keep") {
    TG_CHECK_VALUES(tg::relu(tg::tensor({kNaN, -3.0}, {.dtype = tg::f32})), {kNaN, 0.0});
  }
  SUBCASE("leaky_relu(NaN) is NaN with the slope as gradient, as PyTorch's") {
    tg::Tensor x = leaf({kNaN, -2.0, 3.0}, {3});
    tg::Tensor y = tg::leaky_relu(x, 0.1);
    TG_CHECK_VALUES(y, {kNaN, -0.2, 3.0});
    TG_CHECK_VALUES(gradient_of(y.sum(), x), {0.1, 0.1, 1.0});
  }
  SUBCASE("maximum with a NaN on either side is NaN; both sides get the gradient") {
    tg::Tensor a = leaf({kNaN, 0.0, 1.0}, {3});
    tg::Tensor b = leaf({0.0, kNaN, 1.0}, {3});
    tg::Tensor y = tg::maximum(a, b);
    TG_CHECK_VALUES(y, {kNaN, kNaN, 1.0});
    // PyTorch: where(a == b, g/2, g) masked to 0 where a < b (for a) or a > b (for b).
    const std::vector<tg::Tensor> g = tg::grad({y.sum()}, {a, b});
    TG_CHECK_VALUES(g[0], {1.0, 1.0, 0.5});
    TG_CHECK_VALUES(g[1], {1.0, 1.0, 0.5});
  }
  SUBCASE("maximum(NaN, 0) on a broadcast scalar is NaN") {
    TG_CHECK_VALUES(tg::maximum(constant({kNaN, -1.0}, {2}), tg::scalar(0.0, {.dtype = tg::f64})),
                    {kNaN, 0.0});
  }
  SUBCASE("minimum with a NaN on either side is NaN") {
    tg::Tensor a = leaf({kNaN, 0.0, 1.0}, {3});
    tg::Tensor b = leaf({0.0, kNaN, 2.0}, {3});
    tg::Tensor y = tg::minimum(a, b);
    TG_CHECK_VALUES(y, {kNaN, kNaN, 1.0});
    const std::vector<tg::Tensor> g = tg::grad({y.sum()}, {a, b});
    TG_CHECK_VALUES(g[0], {1.0, 1.0, 1.0});
    TG_CHECK_VALUES(g[1], {1.0, 1.0, 0.0});
  }
  SUBCASE("clamp(NaN) is NaN with zero gradient, as PyTorch's") {
    tg::Tensor x = leaf({kNaN, 5.0, 0.5}, {3});
    tg::Tensor y = tg::clamp(x, 0.0, 1.0);
    TG_CHECK_VALUES(y, {kNaN, 1.0, 0.5});
    TG_CHECK_VALUES(gradient_of(y.sum(), x), {0.0, 0.0, 1.0});
  }
}

TEST_CASE("type promotion depends on types, never on values") {
  const tg::Tensor ints = tg::arange(3);
  SUBCASE("an i64 tensor with a double is f32 whether the double is whole or not") {
    CHECK((ints * 2.0).dtype() == tg::f32);
    CHECK((ints * 0.5).dtype() == tg::f32);
    CHECK((ints + 1.0).dtype() == tg::f32);
    CHECK((ints - 1.0).dtype() == tg::f32);
    CHECK((2.0 * ints).dtype() == tg::f32);
    CHECK((1.0 + ints).dtype() == tg::f32);
    CHECK((1.0 - ints).dtype() == tg::f32);
    TG_CHECK_VALUES(ints * 2.0, {0.0, 2.0, 4.0});
    TG_CHECK_VALUES(ints * 0.5, {0.0, 0.5, 1.0});
  }
  SUBCASE("an i64 tensor with an integer stays i64, as PyTorch's arange(3) * 2") {
    CHECK((ints * 2).dtype() == tg::i64);
    CHECK((ints + int64_t{5}).dtype() == tg::i64);
    CHECK((ints - 1).dtype() == tg::i64);
    CHECK((3 * ints).dtype() == tg::i64);
    CHECK((10 - ints).dtype() == tg::i64);
    CHECK((ints * size_t{2}).dtype() == tg::i64);
    TG_CHECK_VALUES(ints * 2, {0.0, 2.0, 4.0});
    TG_CHECK_VALUES(10 - ints, {10.0, 9.0, 8.0});
    TG_CHECK_VALUES(ints + (int64_t{1} << 40), {1099511627776.0, 1099511627777.0, 1099511627778.0});
  }
  SUBCASE("an integer divides as a float (true division), as PyTorch's") {
    CHECK((ints / 2).dtype() == tg::f32);
    TG_CHECK_VALUES(ints / 2, {0.0, 0.5, 1.0});
    TG_CHECK_VALUES(6 / (ints + 1), {6.0, 3.0, 2.0});
  }
  SUBCASE("a floating tensor keeps its dtype with an integer and with a double") {
    const tg::Tensor x = tg::tensor({1.5, 2.5}, {.dtype = tg::f64});
    CHECK((x * 2).dtype() == tg::f64);
    CHECK((tg::tensor({1.5}) * 2).dtype() == tg::f32);
    TG_CHECK_VALUES(x * 2, {3.0, 5.0});
    TG_CHECK_VALUES(x / 2, {0.75, 1.25});
  }
  SUBCASE("an integer scalar keeps gradients flowing to a floating tensor") {
    tg::Tensor x = leaf({1.0, 2.0}, {2});
    TG_CHECK_VALUES(gradient_of((3 * x - 1).sum(), x), {3.0, 3.0});
  }
}

TEST_CASE("a mixed f32/f64 matmul or linear says how to fix it") {
  const tg::Tensor x32 = tg::ones({2, 3});
  const tg::Tensor w64 = tg::ones({4, 3}, {.dtype = tg::f64});
  TG_CHECK_ERROR(tg::matmul(x32, w64.t()), "matmul", "f32 [2, 3]", "f64 [3, 4]", ".to(tg::f32)",
                 ".to(tg::f64)");
  TG_CHECK_ERROR(tg::linear(x32, w64), "linear", "f32", "f64", ".to(tg::f32)", "model.to(tg::f64)");
  TG_CHECK_ERROR(tg::matmul(tg::arange(3), tg::arange(3)), "matmul", "i64", ".to(tg::f32)");
}

namespace {
struct WrongShape : tg::autograd::Function<WrongShape> {
  static constexpr const char* name = "WrongShape";
  static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x,
                            const tg::Tensor& y) {
    return x * y;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                          std::vector<tg::Tensor> g) {
    return {g[0], tg::ones({2}, {.dtype = tg::f64})};
  }
};
}  // namespace

TEST_CASE("errors name the user-level op, not an internal helper") {
  SUBCASE("a custom Function's gradient of the wrong shape names the Function and the input") {
    tg::Tensor x = leaf({1, 2, 3}, {3});
    tg::Tensor y = leaf({1, 2, 3}, {3});
    const std::string message = error_message([&] { WrongShape::apply(x, y).sum().backward(); });
    CAPTURE(message);
    CHECK(contains(message, "WrongShape"));
    CHECK(contains(message, "input 1"));
    CHECK(contains(message, "[2]"));
    CHECK(contains(message, "[3]"));
    CHECK(!contains(message, "sum_to"));
  }
  SUBCASE("grad() before any backward says the tensor has no gradient yet and why") {
    tg::Tensor w = leaf({1, 2}, {2});
    const std::string message = error_message([&] { (void)w.grad().item(); });
    CAPTURE(message);
    CHECK(contains(message, "item"));
    CHECK(contains(message, "undefined tensor"));
    CHECK(contains(message, "no backward"));
    CHECK(!contains(message, "numel"));
  }
  SUBCASE("an op on an undefined tensor says so") {
    TG_CHECK_ERROR(tg::exp(tg::Tensor()), "undefined tensor");
    TG_CHECK_ERROR(tg::Tensor().to_vector(), "to_vector", "undefined tensor");
  }
  SUBCASE("data<T> of the wrong dtype names data<T>") {
    tg::Tensor w = tg::ones({2});
    TG_CHECK_ERROR(w.data<double>(), "data<double>", "f32");
  }
  SUBCASE("a negative size names the creating op") {
    TG_CHECK_ERROR(tg::zeros({2, -1}), "zeros", "[2, -1]");
    TG_CHECK_ERROR(tg::randn({-3}), "randn", "[-3]");
  }
}

TEST_CASE("dims 0 and -1 on a 0-D tensor give a 0-D result, as PyTorch") {
  tg::Tensor s = tg::scalar(0.7, {.dtype = tg::f64, .requires_grad = true});
  const auto check_scalar = [&](const tg::Tensor& y, double value, double derivative) {
    CHECK(y.dim() == 0);
    CHECK(y.item() == tg::testing::exact(value));
    CHECK(gradient_of(y, s).item() == tg::testing::exact(derivative));
  };
  SUBCASE("reductions") {
    check_scalar(s.sum(0), 0.7, 1.0);
    check_scalar(s.sum(-1, true), 0.7, 1.0);
    check_scalar(s.mean(-1), 0.7, 1.0);
    check_scalar(s.mean(0, true), 0.7, 1.0);
    check_scalar(s.max(0), 0.7, 1.0);
    check_scalar(s.max(-1, true), 0.7, 1.0);
    const tg::Tensor index = s.argmax(0);
    CHECK(index.dim() == 0);
    CHECK(index.dtype() == tg::i64);
    CHECK(index.item() == 0.0);
  }
  SUBCASE("softmax family") {
    check_scalar(tg::softmax(s, 0), 1.0, 0.0);
    check_scalar(tg::log_softmax(s, -1), 0.0, 0.0);
    check_scalar(tg::logsumexp(s, 0), 0.7, 1.0);
    check_scalar(tg::logsumexp(s, -1, true), 0.7, 1.0);
  }
  SUBCASE("shape ops") {
    check_scalar(s.squeeze(0), 0.7, 1.0);
    check_scalar(s.squeeze(-1), 0.7, 1.0);
    check_scalar(s.transpose(0, 0), 0.7, 1.0);
    check_scalar(s.transpose(-1, 0), 0.7, 1.0);
    CHECK(s.unsqueeze(-1).shape() == tg::Shape{1});
    CHECK(s.unsqueeze(0).shape() == tg::Shape{1});
  }
  SUBCASE("any other dim is still out of range, and the message says which dims are valid") {
    TG_CHECK_ERROR(s.sum(1), "sum", "dim 1", "0-D", "-1 to 0");
    TG_CHECK_ERROR(s.mean(-2), "mean", "dim -2");
    TG_CHECK_ERROR(tg::softmax(s, 1), "softmax", "dim 1");
    TG_CHECK_ERROR(s.transpose(0, 1), "transpose", "dim 1");
  }
}

TEST_CASE("matmul broadcasts batch dims, as torch.matmul") {
  SUBCASE("[1, 2, 3] @ [4, 3, 2] gives [4, 2, 2]") {
    const tg::Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {1, 2, 3}, {.dtype = tg::f64});
    const tg::Tensor b =
        tg::tensor({1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 0, 0, 2, 0, 0},
                   {4, 3, 2}, {.dtype = tg::f64});
    const tg::Tensor c = tg::matmul(a, b);
    CHECK(c.shape() == tg::Shape{4, 2, 2});
    // a = [[1,2,3],[4,5,6]] against each matrix of b, by hand.
    TG_CHECK_VALUES(c, {1, 2, 4, 5,     // a @ [[1,0],[0,1],[0,0]]
                        2, 3, 5, 6,     // a @ [[0,0],[1,0],[0,1]]
                        6, 6, 15, 15,   // a @ ones(3, 2)
                        2, 4, 8, 10});  // a @ [[2,0],[0,2],[0,0]]
  }
  SUBCASE("shapes of the result for 1-D, 2-D, 4-D and mixes") {
    const auto shape_of = [](const tg::Shape& sa, const tg::Shape& sb) {
      return tg::matmul(tg::ones(sa), tg::ones(sb)).shape();
    };
    CHECK(shape_of({2, 1, 3, 4}, {5, 4, 2}) == tg::Shape{2, 5, 3, 2});
    CHECK(shape_of({3}, {2, 5, 3, 4}) == tg::Shape{2, 5, 4});
    CHECK(shape_of({2, 5, 3, 4}, {4}) == tg::Shape{2, 5, 3});
    CHECK(shape_of({3, 4}, {2, 1, 4, 6}) == tg::Shape{2, 1, 3, 6});
    CHECK(shape_of({6, 1, 2, 3, 4}, {7, 1, 4, 5}) == tg::Shape{6, 7, 2, 3, 5});
    TG_CHECK_VALUES(tg::matmul(tg::ones({2, 1, 3, 4}), tg::ones({5, 4, 2})).sum(), {240.0});
  }
  SUBCASE("gradients are reduced back to each input's batch shape (gradcheck in f64)") {
    tg::manual_seed(7);
    const std::vector<std::pair<tg::Shape, tg::Shape>> shapes = {
        {{1, 2, 3}, {4, 3, 2}}, {{2, 1, 3, 2}, {3, 2, 4}}, {{3}, {2, 3, 2}},
        {{2, 2, 3}, {3}},       {{2, 3}, {2, 2, 3, 1}},    {{2, 1, 2, 3}, {1, 2, 3, 2}},
    };
    for (const auto& [sa, sb] : shapes) {
      CAPTURE(tg::format_shape(sa));
      CAPTURE(tg::format_shape(sb));
      TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::matmul(in[0], in[1]); },
                         {tg::testing::uniform(sa, -1, 1), tg::testing::uniform(sb, -1, 1)});
    }
  }
  SUBCASE("batch dims that do not broadcast are an error naming both shapes") {
    TG_CHECK_ERROR(tg::matmul(tg::ones({2, 2, 3}), tg::ones({3, 3, 2})), "matmul", "[2, 2, 3]",
                   "[3, 3, 2]", "batch");
    TG_CHECK_ERROR(tg::matmul(tg::ones({2, 3}), tg::ones({2, 3})), "matmul", "inner");
    TG_CHECK_ERROR(tg::matmul(tg::scalar(1), tg::ones({2})), "matmul", "0-D");
  }
}

TEST_CASE("clamp with lo > hi sets every element to hi with zero gradient, as PyTorch") {
  tg::Tensor x = leaf({-5.0, 0.7, 3.0}, {3});
  tg::Tensor y = tg::clamp(x, 1.0, 0.5);
  TG_CHECK_VALUES(y, {0.5, 0.5, 0.5});
  TG_CHECK_VALUES(gradient_of((y * constant({1, 2, 3}, {3})).sum(), x), {0.0, 0.0, 0.0});
  TG_CHECK_VALUES(tg::clamp(tg::arange(3), 2.0, 1.0), {1.0, 1.0, 1.0});
}

TEST_CASE("second derivatives through relu, leaky_relu and abs are zero, not an error") {
  const tg::Tensor w = constant({3.0, 5.0}, {2});
  using Unary = tg::Tensor (*)(const tg::Tensor&);
  const std::pair<const char*, Unary> ops[] = {
      {"relu", [](const tg::Tensor& t) { return tg::relu(t); }},
      {"leaky_relu", [](const tg::Tensor& t) { return tg::leaky_relu(t, 0.1); }},
      {"abs", [](const tg::Tensor& t) { return tg::abs(t); }},
      {"clamp", [](const tg::Tensor& t) { return tg::clamp(t, -0.5, 1.5); }},
      {"maximum", [](const tg::Tensor& t) { return tg::maximum(t, t * t); }},
  };
  for (const auto& [name, op] : ops) {
    CAPTURE(name);
    tg::Tensor x = leaf({-1.0, 2.0}, {2});
    const std::vector<tg::Tensor> gs = tg::grad({(op(x) * w).sum()}, {x}, {}, true);
    REQUIRE(gs[0].requires_grad());
    const std::vector<tg::Tensor> second = tg::grad({gs[0].sum()}, {x});
    REQUIRE(second[0].defined());
    if (std::string(name) != "maximum") TG_CHECK_VALUES(second[0], {0.0, 0.0});
  }
  SUBCASE("gradgradcheck away from the kinks") {
    tg::manual_seed(11);
    for (const auto& [name, op] : ops) {
      CAPTURE(name);
      const auto fn = [op = op](const std::vector<tg::Tensor>& in) { return op(in[0]) * in[0]; };
      const tg::GradcheckResult result =
          tg::gradgradcheck(fn, {leaf({-1.3, -0.6, 0.4, 1.1, 0.8, -0.25}, {2, 3})});
      CHECK_MESSAGE(result.ok, result.report);
    }
  }
  SUBCASE("an output that does not require grad gets a message that says why") {
    tg::Tensor x = leaf({1.0}, {1});
    const std::vector<tg::Tensor> gs = tg::grad({(x * 2.0).sum()}, {x});
    TG_CHECK_ERROR(tg::grad({gs[0].sum()}, {x}), "grad", "does not require grad", "create_graph");
  }
}
