// tg::linalg: values against hand-computed ones (f32 and f64, batched), gradcheck and
// gradgradcheck of all eight functions from one table, and the errors they throw.
#include "tapegrad/autograd/linalg.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "support/testing.hpp"

using tg::testing::uniform;

namespace {

using Inputs = std::vector<tg::Tensor>;

tg::Tensor matrix(std::vector<double> values, tg::Shape shape, tg::DType dtype = tg::f64) {
  return tg::tensor(std::move(values), std::move(shape), {.dtype = dtype});
}

// A 3×3 matrix whose LU factorisation must pivot (A[0][0] = 0); det = −2 and, by cofactors,
// A⁻¹ = [−9/2 7 −3/2; −2 4 −1; 3/2 −2 1/2].
const std::vector<double> kPivoting = {0, 1, 2, 1, 0, 3, 4, -3, 8};
const std::vector<double> kPivotingInverse = {-4.5, 7, -1.5, -2, 4, -1, 1.5, -2, 0.5};
// The classic SPD example: [4 12 −16; 12 37 −43; −16 −43 98] = L Lᵀ, L = [2 0 0; 6 1 0; −8 5 3].
const std::vector<double> kSpd = {4, 12, -16, 12, 37, -43, -16, -43, 98};
const std::vector<double> kSpdFactor = {2, 0, 0, 6, 1, 0, -8, 5, 3};

// A well-conditioned random leaf: uniform entries plus 3 I on each matrix.
tg::Tensor well_conditioned(const tg::Shape& shape) {
  const int64_t n = shape.back();
  return (uniform(shape, -1, 1) + tg::eye(n, {.dtype = tg::f64}) * 3.0)
      .detach()
      .set_requires_grad();
}

// A tall [..., n + 1, n] leaf of full column rank: a well-conditioned square block over a random
// row.
tg::Tensor tall(bool batched, int64_t n) {
  const tg::Tensor top = well_conditioned(batched ? tg::Shape{2, n, n} : tg::Shape{n, n});
  const tg::Tensor row = uniform(batched ? tg::Shape{2, 1, n} : tg::Shape{1, n}, -1, 1);
  return tg::cat({top, row}, -2).detach().set_requires_grad();
}

tg::Tensor symmetric(const tg::Tensor& x) { return (x + tg::transpose(x, -2, -1)) * 0.5; }

// X Xᵀ + n I: symmetric positive definite for any X, so cholesky is checked on the manifold it is
// defined on (its gradient is the symmetric one, as torch's).
tg::Tensor spd(const tg::Tensor& x) {
  const int64_t n = x.size(-1);
  return tg::matmul(x, tg::transpose(x, -2, -1)) + tg::eye(n, {.dtype = tg::f64}) * double(n);
}

// One row of the table: a function of the inputs and how to draw them, unbatched or batched.
struct LinalgCase {
  const char* name;
  std::function<tg::Tensor(const Inputs&)> fn;
  std::function<Inputs(bool batched)> inputs;
};

tg::Shape batched_shape(bool batched, tg::Shape matrix_shape) {
  if (batched) matrix_shape.insert(matrix_shape.begin(), 2);
  return matrix_shape;
}

std::vector<LinalgCase> linalg_cases() {
  return {
      {"solve", [](const Inputs& in) { return tg::linalg::solve(in[0], in[1]); },
       [](bool b) {
         return Inputs{well_conditioned(batched_shape(b, {3, 3})),
                       uniform(batched_shape(b, {3, 2}), -1, 1)};
       }},
      {"inv", [](const Inputs& in) { return tg::linalg::inv(in[0]); },
       [](bool b) {
         return Inputs{well_conditioned(batched_shape(b, {3, 3}))};
       }},
      {"cholesky", [](const Inputs& in) { return tg::linalg::cholesky(spd(in[0])); },
       [](bool b) {
         return Inputs{uniform(batched_shape(b, {3, 3}), -1, 1)};
       }},
      {"det", [](const Inputs& in) { return tg::linalg::det(in[0]); },
       [](bool b) {
         return Inputs{well_conditioned(batched_shape(b, {3, 3}))};
       }},
      {"slogdet", [](const Inputs& in) { return tg::linalg::slogdet(in[0]).second; },
       [](bool b) {
         return Inputs{well_conditioned(batched_shape(b, {3, 3}))};
       }},
      {"lstsq", [](const Inputs& in) { return tg::linalg::lstsq(in[0], in[1]); },
       [](bool b) {
         return Inputs{tall(b, 3), uniform(batched_shape(b, {4, 2}), -1, 1)};
       }},
      // The eigenvectors through V ⊙ V, which does not depend on each column's sign.
      {"eigh",
       [](const Inputs& in) {
         const auto [values, vectors] = tg::linalg::eigh(symmetric(in[0]));
         return tg::cat({tg::unsqueeze(values, -2), vectors * vectors}, -2);
       },
       [](bool b) {
         return Inputs{uniform(batched_shape(b, {3, 3}), -1, 1)};
       }},
      {"eigvalsh", [](const Inputs& in) { return tg::linalg::eigvalsh(symmetric(in[0])); },
       [](bool b) {
         return Inputs{uniform(batched_shape(b, {3, 3}), -1, 1)};
       }},
  };
}

// Fresh leaves of the inputs' values, so no check accumulates into another's gradients.
Inputs as_leaves(Inputs inputs) {
  for (tg::Tensor& t : inputs) t = t.detach().set_requires_grad();
  return inputs;
}

}  // namespace

TEST_CASE("solve gives A⁻¹ B for vectors, matrices, batches, f32 and f64") {
  for (const tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    const double tol = dtype == tg::f64 ? 1e-12 : 1e-5;
    // [2 1; 1 3]⁻¹ = [3 −1; −1 2] / 5
    const tg::Tensor a = matrix({2, 1, 1, 3}, {2, 2}, dtype);
    TG_CHECK_VALUES_TOL(tg::linalg::solve(a, tg::tensor({3, 5}, {.dtype = dtype})), tol,
                        {0.8, 1.4});
    const tg::Tensor x = tg::linalg::solve(a, matrix({3, 1, 5, 0}, {2, 2}, dtype));
    CHECK(x.dtype() == dtype);
    TG_CHECK_VALUES_TOL(x, tol, {0.8, 0.6, 1.4, -0.2});
    // A pivoting 3×3 against its inverse's columns: A X = I gives X = A⁻¹.
    TG_CHECK_VALUES_TOL(
        tg::linalg::solve(matrix(kPivoting, {3, 3}, dtype), tg::eye(3, {.dtype = dtype})),
        dtype == tg::f64 ? 1e-12 : 1e-5, kPivotingInverse);
    // A batch [2, 2, 2] of vectors [2, 2], and a matrix broadcast against a batch of B.
    const tg::Tensor batch = tg::stack({a, matrix({1, 0, 0, 4}, {2, 2}, dtype)}, 0);
    TG_CHECK_VALUES_TOL(tg::linalg::solve(batch, matrix({3, 5, 1, 8}, {2, 2}, dtype)), tol,
                        {0.8, 1.4, 1, 2});
    const tg::Tensor broadcast = tg::linalg::solve(a, matrix({3, 5, 2, 1}, {2, 2, 1}, dtype));
    CHECK(broadcast.shape() == tg::Shape{2, 2, 1});
    TG_CHECK_VALUES_TOL(broadcast, tol, {0.8, 1.4, 1, 0});
  }
}

TEST_CASE("solve's residual is at rounding level for large systems, vector or matrix B") {
  // n = 100 takes the path that factors A as stored (small ones transpose A for gesv).
  tg::manual_seed(3);
  const tg::Tensor a = tg::rand({100, 100}, {.dtype = tg::f64}) - 0.5;
  for (const tg::Tensor& b :
       {tg::rand({100}, {.dtype = tg::f64}), tg::rand({100, 3}, {.dtype = tg::f64})}) {
    const tg::Tensor residual = tg::matmul(a, tg::linalg::solve(a, b)) - b;
    CHECK(tg::abs(residual).max().item() < 1e-10);
  }
  const tg::Tensor product = tg::matmul(a, tg::linalg::inv(a)) - tg::eye(100, {.dtype = tg::f64});
  CHECK(tg::abs(product).max().item() < 1e-10);
}

TEST_CASE("inv, det and slogdet of a matrix that needs pivoting, and of a batch") {
  for (const tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    const double tol = dtype == tg::f64 ? 1e-12 : 1e-5;
    const tg::Tensor a = matrix(kPivoting, {3, 3}, dtype);
    TG_CHECK_VALUES_TOL(tg::linalg::inv(a), tol, kPivotingInverse);
    TG_CHECK_VALUES_TOL(tg::linalg::det(a), tol, {-2});
    const auto [sign, log_abs] = tg::linalg::slogdet(a);
    TG_CHECK_VALUES(sign, {-1});
    TG_CHECK_VALUES_TOL(log_abs, tol, {std::log(2.0)});
    // [2 1; 1 3]: det 5, inverse [3 −1; −1 2] / 5; diag(1, 4): det 4, inverse diag(1, 1/4).
    const tg::Tensor batch = matrix({2, 1, 1, 3, 1, 0, 0, 4}, {2, 2, 2}, dtype);
    TG_CHECK_VALUES_TOL(tg::linalg::inv(batch), tol, {0.6, -0.2, -0.2, 0.4, 1, 0, 0, 0.25});
    const tg::Tensor dets = tg::linalg::det(batch);
    CHECK(dets.shape() == tg::Shape{2});
    TG_CHECK_VALUES_TOL(dets, tol, {5, 4});
    TG_CHECK_VALUES_TOL(tg::linalg::det(matrix(kSpd, {3, 3}, dtype)),
                        dtype == tg::f64 ? 1e-9 : 1e-3, {36});  // (2 · 1 · 3)²
  }
}

TEST_CASE("det and slogdet of a singular matrix are 0 and (0, -inf)") {
  const tg::Tensor singular = matrix({1, 2, 2, 4}, {2, 2});
  TG_CHECK_VALUES(tg::linalg::det(singular), {0});
  const auto [sign, log_abs] = tg::linalg::slogdet(singular);
  TG_CHECK_VALUES(sign, {0});
  CHECK(log_abs.item() == -std::numeric_limits<double>::infinity());
}

TEST_CASE("cholesky gives L or U of the classic example and reads one triangle only") {
  for (const tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    const double tol = dtype == tg::f64 ? 1e-12 : 1e-5;
    TG_CHECK_VALUES_TOL(tg::linalg::cholesky(matrix(kSpd, {3, 3}, dtype)), tol, kSpdFactor);
    TG_CHECK_VALUES_TOL(tg::linalg::cholesky(matrix(kSpd, {3, 3}, dtype), true), tol,
                        {2, 6, -8, 0, 1, 5, 0, 0, 3});
  }
  // The lower factor reads the lower triangle, the upper one the upper triangle (as torch).
  const std::vector<double> lower_only = {4, 99, 99, 12, 37, 99, -16, -43, 98};
  TG_CHECK_VALUES(tg::linalg::cholesky(matrix(lower_only, {3, 3})), kSpdFactor);
  const std::vector<double> upper_only = {4, 12, -16, 99, 37, -43, 99, 99, 98};
  TG_CHECK_VALUES(tg::linalg::cholesky(matrix(upper_only, {3, 3}), true),
                  {2, 6, -8, 0, 1, 5, 0, 0, 3});
  // A batch: the classic one and 4 I (factor 2 I).
  std::vector<double> both = kSpd;
  for (double v : {4, 0, 0, 0, 4, 0, 0, 0, 4}) both.push_back(v);
  TG_CHECK_VALUES(tg::linalg::cholesky(matrix(both, {2, 3, 3})),
                  {2, 0, 0, 6, 1, 0, -8, 5, 3, 2, 0, 0, 0, 2, 0, 0, 0, 2});
}

TEST_CASE("lstsq fits the least-squares line and solves square systems") {
  for (const tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    const double tol = dtype == tg::f64 ? 1e-12 : 1e-5;
    // Points (0, 0), (1, 1), (2, 1): AᵀA = [3 3; 3 5], Aᵀy = [2, 3], so [1/6, 1/2].
    const tg::Tensor a = matrix({1, 0, 1, 1, 1, 2}, {3, 2}, dtype);
    const tg::Tensor x = tg::linalg::lstsq(a, tg::tensor({0, 1, 1}, {.dtype = dtype}));
    CHECK(x.shape() == tg::Shape{2});
    TG_CHECK_VALUES_TOL(x, tol, {1.0 / 6, 0.5});
    // Two right-hand sides: y and 2y + 1 (whose fit is 2·[1/6, 1/2] + [1, 0]).
    TG_CHECK_VALUES_TOL(tg::linalg::lstsq(a, matrix({0, 1, 1, 3, 1, 3}, {3, 2}, dtype)), tol,
                        {1.0 / 6, 4.0 / 3, 0.5, 1});
    TG_CHECK_VALUES_TOL(tg::linalg::lstsq(matrix({2, 1, 1, 3}, {2, 2}, dtype),
                                          tg::tensor({3, 5}, {.dtype = dtype})),
                        tol, {0.8, 1.4});
    // Batched: the same line twice, the second with y doubled.
    const tg::Tensor batch = tg::stack({a, a}, 0);
    TG_CHECK_VALUES_TOL(tg::linalg::lstsq(batch, matrix({0, 1, 1, 0, 2, 2}, {2, 3}, dtype)), tol,
                        {1.0 / 6, 0.5, 1.0 / 3, 1});
  }
}

TEST_CASE("eigh gives ascending eigenvalues and orthonormal eigenvectors") {
  for (const tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    const double tol = dtype == tg::f64 ? 1e-12 : 1e-5;
    // [2 1; 1 2]: 1 with (1, −1)/√2 and 3 with (1, 1)/√2.
    const auto [values, vectors] = tg::linalg::eigh(matrix({2, 1, 1, 2}, {2, 2}, dtype));
    TG_CHECK_VALUES_TOL(values, tol, {1, 3});
    const std::vector<double> v = vectors.to_vector();
    const double r = 1 / std::sqrt(2.0);
    CHECK(std::abs(v[0]) == doctest::Approx(r).epsilon(tol));
    CHECK(v[0] * v[2] == doctest::Approx(-0.5).epsilon(tol));  // columns (1, −1) and (1, 1)
    CHECK(v[1] * v[3] == doctest::Approx(0.5).epsilon(tol));
    // diag(2, [3 4; 4 −3]): the block's eigenvalues are ±5.
    const tg::Tensor b = matrix({2, 0, 0, 0, 3, 4, 0, 4, -3}, {3, 3}, dtype);
    TG_CHECK_VALUES_TOL(tg::linalg::eigvalsh(b), tol * 10, {-5, 2, 5});
    // A V = V Λ and Vᵀ V = I.
    const auto [lambda, basis] = tg::linalg::eigh(b);
    TG_CHECK_VALUES_TOL(tg::matmul(b, basis) - basis * tg::unsqueeze(lambda, 0), tol * 10,
                        std::vector<double>(9, 0.0));
    TG_CHECK_VALUES_TOL(tg::matmul(tg::transpose(basis, 0, 1), basis), tol * 10,
                        {1, 0, 0, 0, 1, 0, 0, 0, 1});
  }
  // The lower triangle is read, as torch's UPLO='L'; and batches.
  TG_CHECK_VALUES(tg::linalg::eigvalsh(matrix({2, 100, 1, 2}, {2, 2})), {1, 3});
  TG_CHECK_VALUES(tg::linalg::eigvalsh(matrix({2, 1, 1, 2, 5, 0, 0, -1}, {2, 2, 2})),
                  {1, 3, -1, 5});
  // Repeated eigenvalues still give values, and the eigenvalues' gradient stays finite there.
  tg::Tensor identity = tg::eye(3, {.dtype = tg::f64}).set_requires_grad();
  const tg::Tensor repeated = tg::linalg::eigvalsh(identity);
  TG_CHECK_VALUES(repeated, {1, 1, 1});
  repeated.sum().backward();  // d Σλ / dA = I
  TG_CHECK_VALUES(identity.grad(), {1, 0, 0, 0, 1, 0, 0, 0, 1});
}

TEST_CASE("hand-computed gradients: d det/dA = det A⁻ᵀ, d(A⁻¹ b)/db = A⁻ᵀ") {
  tg::Tensor a = tg::testing::leaf({2, 1, 1, 3}, {2, 2});
  tg::linalg::det(a).backward();  // cofactors of [2 1; 1 3]: [3 −1; −1 2]
  TG_CHECK_VALUES(a.grad(), {3, -1, -1, 2});
  tg::Tensor b = tg::testing::param({3, 5});
  tg::linalg::solve(a.detach(), b).sum().backward();  // A⁻ᵀ 1 = [3 − 1, −1 + 2] / 5
  TG_CHECK_VALUES(b.grad(), {0.4, 0.2});
}

TEST_CASE("the eight functions pass gradcheck and gradgradcheck in f64, batched and not") {
  tg::manual_seed(24);
  std::string table = "function   | gradcheck | batched   | gradgradcheck | batched\n";
  for (const LinalgCase& c : linalg_cases()) {
    CAPTURE(c.name);
    double errors[4] = {};
    int column = 0;
    for (const bool second : {false, true}) {
      for (const bool batched : {false, true}) {
        CAPTURE(batched);
        CAPTURE(second);
        const Inputs inputs = as_leaves(c.inputs(batched));
        const tg::GradcheckResult r =
            second ? tg::gradgradcheck(c.fn, inputs) : tg::gradcheck(c.fn, inputs);
        CHECK_MESSAGE(r.ok, r.report);
        errors[column++] = r.max_abs_error;
      }
    }
    char row[128];
    std::snprintf(row, sizeof row, "%-10s | %9.1e | %9.1e | %13.1e | %9.1e\n", c.name, errors[0],
                  errors[1], errors[2], errors[3]);
    table += row;
  }
  MESSAGE(table);
}

TEST_CASE("solve's and lstsq's vector and broadcast forms pass gradcheck") {
  tg::manual_seed(7);
  SUBCASE("solve with a vector right-hand side") {
    TG_CHECK_GRADCHECK([](const Inputs& in) { return tg::linalg::solve(in[0], in[1]); },
                       as_leaves({well_conditioned({3, 3}), uniform({3}, -1, 1)}));
  }
  SUBCASE("solve with one matrix against a batch of right-hand sides") {
    TG_CHECK_GRADCHECK([](const Inputs& in) { return tg::linalg::solve(in[0], in[1]); },
                       as_leaves({well_conditioned({3, 3}), uniform({2, 3, 2}, -1, 1)}));
  }
  SUBCASE("lstsq with a vector right-hand side") {
    TG_CHECK_GRADCHECK([](const Inputs& in) { return tg::linalg::lstsq(in[0], in[1]); },
                       as_leaves({tall(false, 3), uniform({4}, -1, 1)}));
  }
  SUBCASE("cholesky's upper factor") {
    TG_CHECK_GRADCHECK([](const Inputs& in) { return tg::linalg::cholesky(spd(in[0]), true); },
                       {uniform({2, 3, 3}, -1, 1)});
    const tg::GradcheckResult r =
        tg::gradgradcheck([](const Inputs& in) { return tg::linalg::cholesky(spd(in[0]), true); },
                          {uniform({3, 3}, -1, 1)});
    CHECK_MESSAGE(r.ok, r.report);
  }
  SUBCASE("det with a negative determinant") {
    TG_CHECK_GRADCHECK([](const Inputs& in) { return tg::linalg::det(in[0]); },
                       {tg::testing::leaf(kPivoting, {3, 3})});
  }
}

TEST_CASE("linalg errors name the op, the shape and the failing pivot or minor") {
  const tg::Tensor singular = matrix({1, 2, 2, 4}, {2, 2});
  TG_CHECK_ERROR(tg::linalg::solve(singular, tg::tensor({1, 1}, {.dtype = tg::f64})),
                 "linalg.solve", "[2, 2]", "singular", "diagonal element 2");
  TG_CHECK_ERROR(tg::linalg::inv(singular), "linalg.inv", "[2, 2]", "singular",
                 "diagonal element 2");
  TG_CHECK_ERROR(tg::linalg::inv(tg::zeros({3, 3}, {.dtype = tg::f64})), "linalg.inv",
                 "diagonal element 1");
  // In a batch, the failing matrix is named.
  const tg::Tensor batch = tg::stack({tg::eye(2, {.dtype = tg::f64}), singular}, 0);
  TG_CHECK_ERROR(tg::linalg::inv(batch), "linalg.inv", "[2, 2, 2]", "matrix 1 of the batch");
  // [1 2; 2 1] has eigenvalues 3 and −1: its 1×1 minor is positive, its 2×2 minor (−3) not.
  TG_CHECK_ERROR(tg::linalg::cholesky(matrix({1, 2, 2, 1}, {2, 2})), "linalg.cholesky", "[2, 2]",
                 "not positive definite", "leading minor of order 2");
  TG_CHECK_ERROR(tg::linalg::cholesky(matrix({-1, 0, 0, 1}, {2, 2})), "leading minor of order 1");
  // Not square, mis-shaped, wrong dtype.
  const tg::Tensor wide = tg::zeros({2, 3}, {.dtype = tg::f64});
  for (const auto& action : std::vector<std::function<void()>>{
           [&] { tg::linalg::solve(wide, tg::zeros({2}, {.dtype = tg::f64})); },
           [&] { tg::linalg::inv(wide); }, [&] { tg::linalg::cholesky(wide); },
           [&] { tg::linalg::det(wide); }, [&] { tg::linalg::slogdet(wide); },
           [&] { tg::linalg::eigh(wide); }, [&] { tg::linalg::eigvalsh(wide); }}) {
    CHECK_THROWS_AS(action(), tg::Error);
    const std::string message = tg::testing::error_message(action);
    CHECK(tg::testing::contains(message, "square"));
    CHECK(tg::testing::contains(message, "[2, 3]"));
  }
  TG_CHECK_ERROR(tg::linalg::det(tg::zeros({3}, {.dtype = tg::f64})), "linalg.det", "[3]");
  TG_CHECK_ERROR(
      tg::linalg::solve(tg::eye(3, {.dtype = tg::f64}), tg::zeros({2}, {.dtype = tg::f64})),
      "linalg.solve", "[3, 3]", "[2]");
  TG_CHECK_ERROR(
      tg::linalg::solve(tg::eye(3, {.dtype = tg::f64}), tg::zeros({2, 3}, {.dtype = tg::f64})),
      "linalg.solve", "[2, 3]");
  TG_CHECK_ERROR(tg::linalg::solve(tg::zeros({2, 3, 3}, {.dtype = tg::f64}),
                                   tg::zeros({4, 3, 1}, {.dtype = tg::f64})),
                 "linalg.solve", "do not broadcast");
  TG_CHECK_ERROR(
      tg::linalg::solve(tg::eye(2, {.dtype = tg::f64}), tg::zeros({2}, {.dtype = tg::f32})),
      "linalg.solve", "f32");
  TG_CHECK_ERROR(tg::linalg::inv(tg::zeros({2, 2}, {.dtype = tg::i64})), "linalg.inv", "i64");
  // lstsq: more unknowns than equations, and a rank-deficient A (an all-zero column).
  TG_CHECK_ERROR(
      tg::linalg::lstsq(tg::zeros({2, 3}, {.dtype = tg::f64}), tg::zeros({2}, {.dtype = tg::f64})),
      "linalg.lstsq", "[2, 3]");
  TG_CHECK_ERROR(tg::linalg::lstsq(matrix({1, 0, 2, 0, 3, 0}, {3, 2}),
                                   tg::tensor({1, 2, 3}, {.dtype = tg::f64})),
                 "linalg.lstsq", "[3, 2]", "full column rank", "diagonal element 2");
  TG_CHECK_ERROR(
      tg::linalg::lstsq(tg::eye(3, {.dtype = tg::f64}), tg::zeros({2}, {.dtype = tg::f64})),
      "linalg.lstsq", "[3, 3]", "[2]");
  // det's gradient needs A⁻¹, which a singular A does not have: an error, not NaNs.
  tg::Tensor a = tg::testing::leaf({1, 2, 2, 4}, {2, 2});
  TG_CHECK_ERROR(tg::linalg::det(a).backward(), "linalg.det", "singular");
}

TEST_CASE("linalg ops appear on the tape under their names") {
  tg::Tensor a = tg::testing::leaf({2, 1, 1, 3}, {2, 2});
  const std::string tape = tg::autograd::format_tape(tg::linalg::inv(a).sum());
  CAPTURE(tape);
  CHECK(tg::testing::contains(tape, "linalg.inv"));
}

TEST_CASE("linalg takes strided views as it takes their contiguous copies") {
  // [2 1; 1 3] stored transposed: Aᵀ = A here, so the view's values are known by hand; a
  // non-symmetric one read through .t() checks the strides are honoured, not just the data.
  const tg::Tensor stored = matrix({2, 1, 0, 4}, {2, 2}, tg::f64);  // its transpose is [2 0; 1 4]
  const tg::Tensor view = stored.t();
  REQUIRE_FALSE(view.is_contiguous());
  TG_CHECK_VALUES_TOL(tg::linalg::solve(view, tg::tensor({2, 9}, {.dtype = tg::f64})), 1e-12,
                      {1, 2});  // [2 0; 1 4]⁻¹ [2, 9]
  TG_CHECK_VALUES_TOL(tg::linalg::det(view), 1e-12, {8});
  TG_CHECK_VALUES_TOL(tg::linalg::inv(view), 1e-12, {0.5, 0, -0.125, 0.25});
  const tg::Tensor lower = tg::linalg::eigvalsh(matrix({2, 1, 1, 2}, {2, 2}, tg::f64).t());
  TG_CHECK_VALUES_TOL(lower, 1e-12, {1, 3});
  // Gradients through a transposed leaf view agree with finite differences.
  const tg::Tensor leaf =
      tg::tensor({1.5, 0.2, -0.3, 2.0}, {2, 2}, {.dtype = tg::f64, .requires_grad = true});
  CHECK(tg::gradcheck([](const Inputs& in) { return tg::linalg::inv(in[0].t()); }, {leaf}).ok);
  CHECK(tg::gradcheck([](const Inputs& in) { return tg::linalg::det(in[0].t()); }, {leaf}).ok);
}
