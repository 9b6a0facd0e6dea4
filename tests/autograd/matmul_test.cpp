// matmul (1-D, 2-D, batched 3-D) and linear (x Wᵀ + b): values, gradients, f32 against f64.
#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

TEST_CASE("matmul of two matrices") {
  const tg::Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({1, 0, 0, 1, 1, 1}, {3, 2}, {.dtype = tg::f64});
  // [1 2 3; 4 5 6] @ [1 0; 0 1; 1 1] = [1+3, 2+3; 4+6, 5+6]
  TG_CHECK_VALUES(tg::matmul(a, b), {4, 5, 10, 11});
  CHECK(a.matmul(b).shape() == tg::Shape{2, 2});
}

TEST_CASE("matmul with vectors: dot, matrix-vector and vector-matrix") {
  const tg::Tensor a = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  const tg::Tensor v = tg::tensor({1, 1, 2}, {.dtype = tg::f64});
  const tg::Tensor u = tg::tensor({1, -1}, {.dtype = tg::f64});
  const tg::Tensor dot = tg::matmul(v, v);
  CHECK(dot.shape() == tg::Shape{});
  CHECK(dot.item() == 6);                           // 1 + 1 + 4
  TG_CHECK_VALUES(tg::matmul(a, v), {9, 21});       // 1+2+6, 4+5+12
  TG_CHECK_VALUES(tg::matmul(u, a), {-3, -3, -3});  // row 0 − row 1
  CHECK(tg::matmul(u, a).shape() == tg::Shape{3});
}

TEST_CASE("batched matmul multiplies matrix by matrix per batch, broadcasting a 2-D side") {
  const tg::Tensor a = tg::arange(12, {.dtype = tg::f64}).reshape({2, 2, 3});
  const tg::Tensor identity_ish = tg::tensor({1, 0, 0, 1, 0, 0}, {3, 2}, {.dtype = tg::f64});
  const tg::Tensor out = tg::matmul(a, identity_ish);  // keeps the first two columns
  CHECK(out.shape() == tg::Shape{2, 2, 2});
  TG_CHECK_VALUES(out, {0, 1, 3, 4, 6, 7, 9, 10});
}

TEST_CASE("linear computes x Wᵀ + b") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4}, {2, 2}, {.dtype = tg::f64});
  const tg::Tensor w = tg::tensor({1, 1, 2, -1, 0, 3}, {3, 2}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({0.5, 0, -1}, {.dtype = tg::f64});
  // row 0: [1+2, 2−2, 0+6] + b = [3.5, 0, 5];  row 1: [3+4, 6−4, 12] + b = [7.5, 2, 11]
  TG_CHECK_VALUES(tg::linear(x, w, b), {3.5, 0, 5, 7.5, 2, 11});
  TG_CHECK_VALUES(tg::linear(x, w), {3, 0, 6, 7, 2, 12});
}

TEST_CASE("the gradients of a matrix product are G Bᵀ and Aᵀ G") {
  tg::Tensor a = leaf({1, 2, 3, 4}, {2, 2});
  tg::Tensor b = leaf({5, 6, 7, 8}, {2, 2});
  tg::matmul(a, b).sum().backward();
  // G = ones: dA = G Bᵀ → row sums of B = [11, 15] in each row; dB = Aᵀ G → column sums of A
  TG_CHECK_VALUES(a.grad(), {11, 15, 11, 15});
  TG_CHECK_VALUES(b.grad(), {4, 4, 6, 6});
}

TEST_CASE("matmul and linear pass gradcheck on every supported rank") {
  tg::manual_seed(11);
  auto check = [](const tg::Tensor& a, const tg::Tensor& b) {
    TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::matmul(in[0], in[1]); },
                       {a, b});
  };
  SUBCASE("2-D @ 2-D") { check(uniform({3, 4}, -1, 1), uniform({4, 2}, -1, 1)); }
  SUBCASE("1-D @ 1-D") { check(uniform({4}, -1, 1), uniform({4}, -1, 1)); }
  SUBCASE("2-D @ 1-D") { check(uniform({3, 4}, -1, 1), uniform({4}, -1, 1)); }
  SUBCASE("1-D @ 2-D") { check(uniform({4}, -1, 1), uniform({4, 2}, -1, 1)); }
  SUBCASE("3-D @ 3-D") { check(uniform({2, 3, 4}, -1, 1), uniform({2, 4, 2}, -1, 1)); }
  SUBCASE("3-D @ 2-D") { check(uniform({2, 3, 4}, -1, 1), uniform({4, 2}, -1, 1)); }
  SUBCASE("2-D @ 3-D") { check(uniform({3, 4}, -1, 1), uniform({2, 4, 2}, -1, 1)); }
  SUBCASE("1-D @ 3-D") { check(uniform({4}, -1, 1), uniform({2, 4, 3}, -1, 1)); }
  SUBCASE("3-D @ 1-D") { check(uniform({2, 3, 4}, -1, 1), uniform({4}, -1, 1)); }
  SUBCASE("linear on a batch of sequences [2, 3, in]") {
    const tg::Tensor x = uniform({2, 3, 4}, -1, 1), w = uniform({2, 4}, -1, 1),
                     b = uniform({2}, -1, 1);
    TG_CHECK_GRADCHECK(
        [](const std::vector<tg::Tensor>& in) { return tg::linear(in[0], in[1], in[2]); },
        {x, w, b});
  }
  SUBCASE("linear with and without bias") {
    const tg::Tensor x = uniform({5, 3}, -1, 1), w = uniform({2, 3}, -1, 1),
                     b = uniform({2}, -1, 1);
    TG_CHECK_GRADCHECK(
        [](const std::vector<tg::Tensor>& in) { return tg::linear(in[0], in[1], in[2]); },
        {x, w, b});
    TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::linear(in[0], in[1]); },
                       {x, w});
  }
}

TEST_CASE_TEMPLATE("f32 matmul agrees with f64", T, float, double) {
  tg::manual_seed(12);
  const tg::Tensor a64 = tg::randn({17, 33}, {.dtype = tg::f64});
  const tg::Tensor b64 = tg::randn({33, 9}, {.dtype = tg::f64});
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const tg::Tensor out = tg::matmul(a64.to(dtype), b64.to(dtype));
  CHECK(out.dtype() == dtype);
  const double tolerance = std::is_same_v<T, float> ? 1e-4 : 1e-12;
  CHECK(tg::testing::all_close(out.to_vector(), tg::matmul(a64, b64).to_vector(), tolerance));
}

// Products with a single output row or column run as matrix-vector products, and backward
// reaches them with every combination of transpose flags; each value is checked against the
// sum written out by hand.
TEST_CASE_TEMPLATE("products with one output row or column match the written-out sums", T, float,
                   double) {
  tg::manual_seed(13);
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  // (A B)[i][j] = Σ_p A[i][p] B[p][j], with A m×k and B k×n stored row-major.
  auto naive = [](const std::vector<double>& a, const std::vector<double>& b, int64_t m, int64_t k,
                  int64_t n) {
    std::vector<double> c(static_cast<size_t>(m * n), 0.0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p)
          c[static_cast<size_t>(i * n + j)] +=
              a[static_cast<size_t>(i * k + p)] * b[static_cast<size_t>(p * n + j)];
    return c;
  };
  auto transposed = [](const std::vector<double>& x, int64_t rows, int64_t cols) {
    std::vector<double> t(x.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        t[static_cast<size_t>(c * rows + r)] = x[static_cast<size_t>(r * cols + c)];
    return t;
  };
  for (const auto& [m, k, n] :
       {std::tuple<int64_t, int64_t, int64_t>{1, 7, 5}, {6, 7, 1}, {1, 7, 1}, {1, 1, 4}}) {
    CAPTURE(m);
    CAPTURE(k);
    CAPTURE(n);
    tg::Tensor a = tg::randn({m, k}, {.dtype = dtype, .requires_grad = true});
    tg::Tensor b = tg::randn({k, n}, {.dtype = dtype, .requires_grad = true});
    const tg::Tensor g = tg::randn({m, n}, {.dtype = dtype});
    const tg::Tensor c = tg::matmul(a, b);
    (c * g).sum().backward();
    const std::vector<double> av = a.to_vector(), bv = b.to_vector(), gv = g.to_vector();
    CHECK(tg::testing::all_close(c.to_vector(), naive(av, bv, m, k, n), tolerance));
    // dA = G Bᵀ (m×n · n×k), dB = Aᵀ G (k×m · m×n)
    CHECK(tg::testing::all_close(a.grad().to_vector(), naive(gv, transposed(bv, k, n), m, n, k),
                                 tolerance));
    CHECK(tg::testing::all_close(b.grad().to_vector(), naive(transposed(av, m, k), gv, k, m, n),
                                 tolerance));
  }
  // linear with one output (x wᵀ: a transposed right operand) and with a batch of one row.
  for (const auto& [rows, out] : {std::pair<int64_t, int64_t>{5, 1}, {1, 3}}) {
    tg::Tensor x = tg::randn({rows, 4}, {.dtype = dtype, .requires_grad = true});
    tg::Tensor w = tg::randn({out, 4}, {.dtype = dtype, .requires_grad = true});
    const tg::Tensor y = tg::linear(x, w, tg::Tensor());
    y.sum().backward();
    const std::vector<double> xv = x.to_vector(), wv = w.to_vector();
    const std::vector<double> ones(static_cast<size_t>(rows * out), 1.0);
    CHECK(tg::testing::all_close(y.to_vector(), naive(xv, transposed(wv, out, 4), rows, 4, out),
                                 tolerance));
    CHECK(tg::testing::all_close(x.grad().to_vector(), naive(ones, wv, rows, out, 4), tolerance));
    CHECK(tg::testing::all_close(w.grad().to_vector(),
                                 naive(transposed(ones, rows, out), xv, out, rows, 4), tolerance));
  }
}
