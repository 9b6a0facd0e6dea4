// jvp, vjp, jacobian, hessian and hvp against hand-derived derivatives and central differences.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>

#include "support/testing.hpp"

using tg::testing::constant;
using tg::testing::leaf;

namespace {

// Element i of a 1-D tensor as a [1] tensor.
tg::Tensor at(const tg::Tensor& t, int64_t i) {
  return t.index_select(0, tg::testing::labels({static_cast<double>(i)}, {1}));
}

// f(x, w) = [x₀²·w₀, x₀·x₁ + 3w₀, exp(x₁)]; at x = (1, 2), w = (3):
//   J_x = [[2x₀w₀, 0], [x₁, x₀], [0, e^x₁]] = [[6, 0], [2, 1], [0, e²]],
//   J_w = [[x₀²], [3], [0]] = [[1], [3], [0]].
tg::Tensor f(const std::vector<tg::Tensor>& in) {
  const tg::Tensor x0 = at(in[0], 0), x1 = at(in[0], 1), w0 = at(in[1], 0);
  return tg::cat({x0 * x0 * w0, x0 * x1 + 3.0 * w0, tg::exp(x1)}, 0);
}

// g(x) = x₀²·x₁ + x₁³: ∇g = [2x₀x₁, x₀² + 3x₁²], H = [[2x₁, 2x₀], [2x₀, 6x₁]].
tg::Tensor g(const tg::Tensor& x) {
  const tg::Tensor x0 = at(x, 0), x1 = at(x, 1);
  return (x0 * x0 * x1 + tg::pow(x1, 3.0)).sum();
}

const double e2 = std::exp(2.0);

// Central differences of `fn` at `inputs`, with respect to input `which`: [out..., in...] flat.
std::vector<double> numerical_jacobian(const tg::autograd::TensorFunction& fn,
                                       std::vector<tg::Tensor> inputs, size_t which) {
  const double eps = 1e-6;
  const int64_t n = inputs[which].numel();
  std::vector<std::vector<double>> columns;
  for (int64_t k = 0; k < n; ++k) {
    std::vector<double> values = inputs[which].to_vector();
    const double saved = values[static_cast<size_t>(k)];
    auto evaluate = [&](double v) {
      values[static_cast<size_t>(k)] = v;
      std::vector<tg::Tensor> shifted = inputs;
      shifted[which] = tg::tensor(values, inputs[which].shape(), {.dtype = tg::f64});
      return fn(shifted).to_vector();
    };
    const std::vector<double> plus = evaluate(saved + eps), minus = evaluate(saved - eps);
    std::vector<double> column;
    for (size_t j = 0; j < plus.size(); ++j) column.push_back((plus[j] - minus[j]) / (2 * eps));
    columns.push_back(column);
  }
  std::vector<double> flat;
  for (size_t j = 0; j < columns[0].size(); ++j)
    for (size_t k = 0; k < columns.size(); ++k) flat.push_back(columns[k][j]);
  return flat;
}

}  // namespace

TEST_CASE("jacobian gives one [out..., in...] tensor per input, as derived by hand") {
  const tg::Tensor x = constant({1, 2}, {2}), w = constant({3}, {1});
  const std::vector<tg::Tensor> jacobians = tg::autograd::jacobian(f, {x, w});
  REQUIRE(jacobians.size() == 2);
  CHECK(jacobians[0].shape() == tg::Shape{3, 2});
  CHECK(jacobians[1].shape() == tg::Shape{3, 1});
  TG_CHECK_VALUES(jacobians[0], {6, 0, 2, 1, 0, e2});
  TG_CHECK_VALUES(jacobians[1], {1, 3, 0});
  SUBCASE("and agrees with central differences") {
    CHECK(tg::testing::all_close(jacobians[0].to_vector(), numerical_jacobian(f, {x, w}, 0), 1e-6));
    CHECK(tg::testing::all_close(jacobians[1].to_vector(), numerical_jacobian(f, {x, w}, 1), 1e-6));
  }
  SUBCASE("a matrix input and a vector output give a rank-3 Jacobian") {
    // d (A.sum(1))_i / d A_jk = [i == j]
    const auto rows = [](const std::vector<tg::Tensor>& in) { return in[0].sum(1); };
    const tg::Tensor J = tg::autograd::jacobian(rows, {constant({1, 2, 3, 4, 5, 6}, {2, 3})})[0];
    CHECK(J.shape() == tg::Shape{2, 2, 3});
    TG_CHECK_VALUES(J, {1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1});
  }
  SUBCASE("an input the function ignores gets zeros") {
    const auto first = [](const std::vector<tg::Tensor>& in) { return in[0] * 2.0; };
    const auto J = tg::autograd::jacobian(first, {constant({1, 2}, {2}), constant({5}, {1})});
    TG_CHECK_VALUES(J[0], {2, 0, 0, 2});
    TG_CHECK_VALUES(J[1], {0, 0});
  }
}

TEST_CASE("jvp is the Jacobian times the tangents and returns f's value") {
  const tg::Tensor x = constant({1, 2}, {2}), w = constant({3}, {1});
  // J_x·(1, −1) + J_w·0.5 = [6 + 0.5, 2 − 1 + 1.5, −e²]
  const auto [value, derivative] =
      tg::autograd::jvp(f, {x, w}, {constant({1, -1}, {2}), constant({0.5}, {1})});
  TG_CHECK_VALUES(value, {3, 11, e2});  // [1·1·3, 1·2 + 3·3, e²]
  TG_CHECK_VALUES(derivative, {6.5, 2.5, -e2});
  CHECK_FALSE(value.requires_grad());
  CHECK_FALSE(derivative.requires_grad());
  SUBCASE("a tangent along one input reads one column of the Jacobian") {
    const auto column = tg::autograd::jvp(f, {x, w}, {constant({0, 1}, {2}), constant({0}, {1})});
    TG_CHECK_VALUES(column.second, {0, 1, e2});
  }
}

TEST_CASE("vjp is vᵀJ per input and leaves the caller's tensors alone") {
  const tg::Tensor x = leaf({1, 2}, {2}), w = leaf({3}, {1});
  // vᵀJ_x = [6 + 4, 2 + 3e²], vᵀJ_w = [1 + 6]
  const auto [value, grads] = tg::autograd::vjp(f, {x, w}, constant({1, 2, 3}, {3}));
  TG_CHECK_VALUES(value, {3, 11, e2});  // [1·1·3, 1·2 + 3·3, e²]
  REQUIRE(grads.size() == 2);
  TG_CHECK_VALUES(grads[0], {10, 2 + 3 * e2});
  TG_CHECK_VALUES(grads[1], {7});
  CHECK_FALSE(x.grad().defined());  // the helpers never accumulate into .grad()
  SUBCASE("a one-element output needs no v") {
    const auto scalar = tg::autograd::vjp(
        [](const std::vector<tg::Tensor>& in) { return g(in[0]); }, {constant({1, 2}, {2})});
    TG_CHECK_VALUES(scalar.second[0], {4, 13});  // ∇g = [2x₀x₁, x₀² + 3x₁²]
  }
}

TEST_CASE("hessian is [n, n] for a vector x, as derived by hand and by differences") {
  const tg::Tensor x = constant({1, 2}, {2});
  const tg::Tensor H = tg::autograd::hessian(g, x);
  CHECK(H.shape() == tg::Shape{2, 2});
  TG_CHECK_VALUES(H, {4, 2, 2, 12});
  SUBCASE("central differences of the gradient agree") {
    const auto gradient = [](const std::vector<tg::Tensor>& in) {
      tg::Tensor x_leaf = in[0].detach().set_requires_grad();
      return tg::grad({g(x_leaf)}, {x_leaf})[0];
    };
    CHECK(tg::testing::all_close(H.to_vector(), numerical_jacobian(gradient, {x}, 0), 1e-6));
  }
  SUBCASE("a linear function has a zero Hessian") {
    const auto linear = [](const tg::Tensor& v) { return (v * 3.0).sum(); };
    TG_CHECK_VALUES(tg::autograd::hessian(linear, x), {0, 0, 0, 0});
  }
  SUBCASE("a non-scalar function is an error naming hessian and the shape") {
    TG_CHECK_ERROR(tg::autograd::hessian([](const tg::Tensor& v) { return v * v; }, x), "hessian",
                   "[2]");
  }
}

TEST_CASE("hvp is H·v without forming H") {
  const tg::Tensor x = constant({1, 2}, {2});
  TG_CHECK_VALUES(tg::autograd::hvp(g, x, constant({1, -1}, {2})), {2, -10});  // [4 − 2, 2 − 12]
  TG_CHECK_ERROR(tg::autograd::hvp(g, x, constant({1, 2, 3}, {3})), "hvp", "[3]", "[2]");
}

TEST_CASE("the helpers reject mismatched tangents and missing v with the op named") {
  const tg::Tensor x = constant({1, 2}, {2}), w = constant({3}, {1});
  TG_CHECK_ERROR(tg::autograd::jvp(f, {x, w}, {constant({1, 0}, {2})}), "jvp", "1 tangents",
                 "2 inputs");
  TG_CHECK_ERROR(tg::autograd::jvp(f, {x, w}, {constant({1}, {1}), constant({1}, {1})}), "jvp",
                 "tangent 0", "[1]", "[2]");
  TG_CHECK_ERROR(tg::autograd::vjp(f, {x, w}), "vjp", "[3]");
  TG_CHECK_ERROR(tg::autograd::jacobian(f, {x, tg::testing::labels({1}, {1})}), "jacobian",
                 "input 1", "i64");
}
