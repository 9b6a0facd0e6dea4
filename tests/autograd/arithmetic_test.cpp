// Arithmetic ops (+ − × ÷, negation, pow): values, broadcasting, gradients, f32 against f64.
#include <cmath>
#include <limits>
#include <vector>

#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

namespace {

using Binary = tg::Tensor (*)(const tg::Tensor&, const tg::Tensor&);

struct NamedBinary {
  const char* name;
  Binary op;
};

const NamedBinary kBinaryOps[] = {
    {"add", tg::add}, {"sub", tg::sub}, {"mul", tg::mul}, {"div", tg::div}};

}  // namespace

TEST_CASE("add, sub, mul and div broadcast a row over a matrix") {
  const tg::Tensor a = tg::tensor({1, 2, 3, 4}, {2, 2}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({10, 20}, {2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(a + b, {11, 22, 13, 24});
  TG_CHECK_VALUES(a - b, {-9, -18, -7, -16});
  TG_CHECK_VALUES(a * b, {10, 40, 30, 80});
  TG_CHECK_VALUES(a / b, {0.1, 0.1, 0.3, 0.2});
  CHECK((a + b).shape() == tg::Shape{2, 2});
}

TEST_CASE("a column and a row broadcast to their outer shape") {
  const tg::Tensor column = tg::tensor({1, 2, 3}, {3, 1}, {.dtype = tg::f64});
  const tg::Tensor row = tg::tensor({10, 20}, {1, 2}, {.dtype = tg::f64});
  const tg::Tensor sum = column + row;
  CHECK(sum.shape() == tg::Shape{3, 2});
  TG_CHECK_VALUES(sum, {11, 21, 12, 22, 13, 23});
}

TEST_CASE("doubles combine with tensors on either side") {
  const tg::Tensor a = tg::tensor({1, 2, 4}, {.dtype = tg::f64});
  TG_CHECK_VALUES(a + 1.0, {2, 3, 5});
  TG_CHECK_VALUES(1.0 + a, {2, 3, 5});
  TG_CHECK_VALUES(a - 1.0, {0, 1, 3});
  TG_CHECK_VALUES(1.0 - a, {0, -1, -3});
  TG_CHECK_VALUES(a * 3.0, {3, 6, 12});
  TG_CHECK_VALUES(3.0 * a, {3, 6, 12});
  TG_CHECK_VALUES(a / 2.0, {0.5, 1, 2});
  TG_CHECK_VALUES(2.0 / a, {2, 1, 0.5});
  TG_CHECK_VALUES(-a, {-1, -2, -4});
}

TEST_CASE("pow raises every element to a real exponent") {
  const tg::Tensor a = tg::tensor({1, 4, 9}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::pow(a, 2.0), {1, 16, 81});
  TG_CHECK_VALUES(tg::pow(a, 0.5), {1, 2, 3});
  TG_CHECK_VALUES(a.pow(-1.0), {1, 0.25, 1.0 / 9.0});
}

TEST_CASE("pow's special exponents are PyTorch's products, root and reciprocals") {
  // For this x, x·x·x and std::pow(x, 3) differ in the last bit, and so do g·(3·x²) and (g·3)·x².
  const double x = 2.014860414196156;
  const tg::Tensor a = tg::tensor({x}, {.dtype = tg::f64});
  CHECK(tg::pow(a, 3.0).item() == x * x * x);
  CHECK(tg::pow(a, -2.0).item() == 1.0 / (x * x));
  CHECK(tg::pow(a, -0.5).item() == 1.0 / std::sqrt(x));
  // √ at −0 and −∞ (std::pow gives +0 and +∞ there)
  const double inf = std::numeric_limits<double>::infinity();
  const tg::Tensor edges = tg::tensor({-0.0, -inf}, {.dtype = tg::f64});
  const std::vector<double> roots = tg::pow(edges, 0.5).to_vector();
  CHECK((roots[0] == 0.0 && std::signbit(roots[0])));
  CHECK(std::isnan(roots[1]));
  // the gradient g · (p · x^(p−1)), in that order
  tg::Tensor leaf_x = tg::tensor({x}, {.dtype = tg::f64, .requires_grad = true});
  (tg::pow(leaf_x, 3.0) * 0.7).backward();
  CHECK(leaf_x.grad().item() == 0.7 * (3.0 * (x * x)));
}

TEST_CASE("the gradients of a product and a quotient are the textbook ones") {
  tg::Tensor a = leaf({2, 3}, {2});
  tg::Tensor b = leaf({4, 5}, {2});
  (a * b + a / b).sum().backward();
  // d(ab + a/b)/da = b + 1/b;  d/db = a − a/b²
  TG_CHECK_VALUES(a.grad(), {4 + 1.0 / 4, 5 + 1.0 / 5});
  TG_CHECK_VALUES(b.grad(), {2 - 2.0 / 16, 3 - 3.0 / 25});
}

TEST_CASE("a broadcast operand receives its gradient summed back to its own shape") {
  tg::Tensor matrix = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  tg::Tensor row = leaf({1, 1, 1}, {3});
  tg::Tensor s = leaf({2}, {});
  (matrix * row * s).sum().backward();
  // d/d row_j = s · Σ_i matrix_ij = 2·(1+4, 2+5, 3+6)
  TG_CHECK_VALUES(row.grad(), {10, 14, 18});
  // d/ds = Σ matrix·row = 21
  TG_CHECK_VALUES(s.grad(), {21});
  CHECK(s.grad().shape() == tg::Shape{});
}

TEST_CASE("binary ops pass gradcheck on broadcasting shapes") {
  struct Shapes {
    tg::Shape a, b;
  };
  const Shapes cases[] = {{{2, 3}, {2, 3}}, {{3, 1}, {1, 4}},    {{2, 3}, {3}},
                          {{}, {2, 3}},     {{2, 1, 3}, {4, 1}}, {{4}, {}}};
  tg::manual_seed(1);
  for (const NamedBinary& op : kBinaryOps) {
    for (const Shapes& shapes : cases) {
      CAPTURE(op.name);
      const auto case_index = &shapes - cases;
      CAPTURE(case_index);
      // Divisors stay in [0.5, 2) so the quotient is smooth.
      const tg::Tensor a = uniform(shapes.a, -2.0, 2.0);
      const tg::Tensor b = uniform(shapes.b, 0.5, 2.0);
      TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return op.op(in[0], in[1]); },
                         {a, b});
    }
  }
}

TEST_CASE("scalar forms, negation and pow pass gradcheck") {
  tg::manual_seed(2);
  const tg::Tensor x = uniform({2, 3}, 0.5, 2.0);
  auto check = [&](auto f) {
    TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return f(in[0]); }, {x});
  };
  SUBCASE("x + c") {
    check([](const tg::Tensor& t) { return t + 1.5; });
  }
  SUBCASE("c − x") {
    check([](const tg::Tensor& t) { return 1.5 - t; });
  }
  SUBCASE("c · x") {
    check([](const tg::Tensor& t) { return 2.5 * t; });
  }
  SUBCASE("c / x") {
    check([](const tg::Tensor& t) { return 2.5 / t; });
  }
  SUBCASE("x / c") {
    check([](const tg::Tensor& t) { return t / 4.0; });
  }
  SUBCASE("−x") {
    check([](const tg::Tensor& t) { return -t; });
  }
  SUBCASE("x³") {
    check([](const tg::Tensor& t) { return tg::pow(t, 3.0); });
  }
  SUBCASE("x^−1.5") {
    check([](const tg::Tensor& t) { return tg::pow(t, -1.5); });
  }
  SUBCASE("x^0.5") {
    check([](const tg::Tensor& t) { return tg::pow(t, 0.5); });
  }
}

TEST_CASE_TEMPLATE("f32 arithmetic agrees with f64", T, float, double) {
  tg::manual_seed(3);
  const tg::Tensor a64 = tg::rand({4, 5}, {.dtype = tg::f64}) + 0.5;
  const tg::Tensor b64 = tg::rand({5}, {.dtype = tg::f64}) + 0.5;
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const tg::Tensor a = a64.to(dtype), b = b64.to(dtype);
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-15;
  for (const NamedBinary& op : kBinaryOps) {
    CAPTURE(op.name);
    const tg::Tensor out = op.op(a, b);
    CHECK(out.dtype() == dtype);
    CHECK(tg::testing::all_close(out.to_vector(), op.op(a64, b64).to_vector(), tolerance));
  }
}
