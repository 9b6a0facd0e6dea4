// matmul (1-D, 2-D, batched 3-D), linear (x Wᵀ + b) and linear_relu: values, gradients, f32 against
// f64.
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

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

TEST_CASE("linear and linear_relu add the bias to every row and sum every row into its gradient") {
  // Batches of 1 to 9 rows: the bias reaches rows copied one at a time and in blocks of 2, 4, 8.
  // With W = 0, row r of linear(x, W, b) is b; relu keeps b's positive entries, and the bias
  // gradient of Σ y ⊙ G is the column sums of G where relu passes it.
  const tg::Tensor b = tg::tensor({0.5, -2, 3}, {.dtype = tg::f64});
  for (int64_t rows = 1; rows <= 9; ++rows) {
    CAPTURE(rows);
    const tg::Tensor x = tg::randn({rows, 2}, {.dtype = tg::f64});
    const tg::Tensor w = tg::zeros({3, 2}, {.dtype = tg::f64});
    std::vector<double> expected_linear, expected_relu, g_values;
    std::vector<double> linear_sums(3, 0.0), relu_sums(3, 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (size_t c = 0; c < 3; ++c) {
        const double bias = b.to_vector()[c],
                     g = static_cast<double>(r * 3) + static_cast<double>(c) + 1;
        expected_linear.push_back(bias);
        expected_relu.push_back(bias > 0 ? bias : 0);
        g_values.push_back(g);
        linear_sums[c] += g;
        relu_sums[c] += bias > 0 ? g : 0;
      }
    const tg::Tensor g = tg::tensor(g_values, {rows, 3}, {.dtype = tg::f64});
    tg::Tensor bias = b.detach().clone().set_requires_grad(true);
    const tg::Tensor y = tg::linear(x, w, bias);
    TG_CHECK_VALUES(y, expected_linear);
    (y * g).sum().backward();
    TG_CHECK_VALUES(bias.grad(), linear_sums);
    bias.zero_grad();
    const tg::Tensor z = tg::linear_relu(x, w, bias);
    TG_CHECK_VALUES(z, expected_relu);
    (z * g).sum().backward();
    TG_CHECK_VALUES(bias.grad(), relu_sums);
  }
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

TEST_CASE("linear_relu computes relu(x Wᵀ + b) and its gradients in one record") {
  // x Wᵀ = [3, 0, 6; 7, 2, 12] (as above); b = [−4, 0.5, −7] gives pre-activations
  // [−1, 0.5, −1; 3, 2.5, 5], so y = [0, 0.5, 0; 3, 2.5, 5] and the mask m = [0 1 0; 1 1 1].
  tg::Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  tg::Tensor w = leaf({1, 1, 2, -1, 0, 3}, {3, 2});
  tg::Tensor b = leaf({-4, 0.5, -7}, {3});
  const tg::Tensor y = tg::linear_relu(x, w, b);
  TG_CHECK_VALUES(y, {0, 0.5, 0, 3, 2.5, 5});
  CHECK(tg::autograd::format_tape(y).find("linear_relu") != std::string::npos);
  CHECK(tg::autograd::format_tape(y).find("relu [") == std::string::npos);
  // G = [1 2 3; 4 5 6]: dY = G ⊙ m = [0 2 0; 4 5 6]
  const tg::Tensor g = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  (y * g).sum().backward();
  // dx = dY W: row 0 = 2·[2, −1] = [4, −2]; row 1 = 4·[1, 1] + 5·[2, −1] + 6·[0, 3] = [14, 17]
  TG_CHECK_VALUES(x.grad(), {4, -2, 14, 17});
  // dW = dYᵀ x: row 0 = 4·[3, 4]; row 1 = 2·[1, 2] + 5·[3, 4] = [17, 24]; row 2 = 6·[3, 4]
  TG_CHECK_VALUES(w.grad(), {12, 16, 17, 24, 18, 24});
  // db = Σ_rows dY
  TG_CHECK_VALUES(b.grad(), {4, 7, 6});

  SUBCASE("without bias, and with an input that needs no gradient") {
    const tg::Tensor data = tg::tensor({1, 2, 3, 4}, {2, 2}, {.dtype = tg::f64});
    tg::Tensor weight = leaf({1, 1, 2, -1, 0, 3}, {3, 2});
    // relu([3, 0, 6; 7, 2, 12]) = the same values, mask [1 0 1; 1 1 1]
    const tg::Tensor out = tg::linear_relu(data, weight);
    TG_CHECK_VALUES(out, {3, 0, 6, 7, 2, 12});
    out.sum().backward();
    // dW = mᵀ x: row 0 = [1, 2] + [3, 4]; row 1 = [3, 4] (the 0 at row 0 passes nothing); row 2
    TG_CHECK_VALUES(weight.grad(), {4, 6, 3, 4, 4, 6});
  }
  SUBCASE("a NaN pre-activation stays NaN and passes its gradient, as relu's") {
    tg::Tensor nan_input = leaf({std::nan(""), 1}, {1, 2});
    tg::Tensor weight = leaf({1, 1}, {1, 2});
    const tg::Tensor out = tg::linear_relu(nan_input, weight);
    CHECK(std::isnan(out.item()));
    out.sum().backward();
    TG_CHECK_VALUES(nan_input.grad(), {1, 1});
  }
}

TEST_CASE("linear_relu on [..., in] folds the leading dims into rows") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, -1, -2}, {3, 1, 2}, {.dtype = tg::f64});
  const tg::Tensor w = tg::tensor({1, 1, 2, -1}, {2, 2}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({0, 1}, {.dtype = tg::f64});
  // rows [1, 2], [3, 4], [−1, −2]: x Wᵀ + b = [3, 1], [7, 3], [−3, 1]; relu
  const tg::Tensor y = tg::linear_relu(x, w, b);
  CHECK(y.shape() == tg::Shape{3, 1, 2});
  TG_CHECK_VALUES(y, {3, 1, 7, 3, 0, 1});
}

TEST_CASE("linear and linear_relu pass gradcheck and gradgradcheck in f64") {
  tg::manual_seed(14);
  using Inputs = std::vector<tg::Tensor>;
  auto fused = [](const Inputs& in) { return tg::linear_relu(in[0], in[1], in[2]); };
  auto fused_no_bias = [](const Inputs& in) { return tg::linear_relu(in[0], in[1]); };
  auto plain = [](const Inputs& in) { return tg::linear(in[0], in[1], in[2]); };
  // Pre-activations of such inputs lie far from relu's kink at the finite-difference scale.
  auto check_both = [](const std::function<tg::Tensor(const Inputs&)>& f, const Inputs& inputs) {
    TG_CHECK_GRADCHECK(f, inputs);
    const auto second = tg::gradgradcheck(f, inputs);
    CHECK_MESSAGE(second.ok, second.report);
  };
  SUBCASE("2-D, about half of the units off") {
    const Inputs in{uniform({5, 3}, -1, 1), uniform({4, 3}, -1, 1), uniform({4}, -1, 1)};
    check_both(fused, in);
    check_both(fused_no_bias, {in[0], in[1]});
    check_both(plain, in);
  }
  SUBCASE("3-D input [2, 3, in]") {
    const Inputs in{uniform({2, 3, 4}, -1, 1), uniform({2, 4}, -1, 1), uniform({2}, -1, 1)};
    check_both(fused, in);
    check_both(plain, in);
  }
  SUBCASE("agrees with relu(linear(...)) in value and gradient, f32 and f64") {
    for (const tg::DType dtype : {tg::f32, tg::f64}) {
      const std::string dtype_name(tg::dtype_name(dtype));
      CAPTURE(dtype_name);
      tg::Tensor x = uniform({6, 5}, -1, 1).to(dtype).detach();
      tg::Tensor w = uniform({7, 5}, -1, 1).to(dtype).detach();
      tg::Tensor b = uniform({7}, -1, 1).to(dtype).detach();
      for (tg::Tensor* t : {&x, &w, &b}) t->set_requires_grad();
      const tg::Tensor g = uniform({6, 7}, -1, 1).to(dtype).detach();
      (tg::linear_relu(x, w, b) * g).sum().backward();
      const std::vector<double> fused_grads[] = {x.grad().to_vector(), w.grad().to_vector(),
                                                 b.grad().to_vector()};
      for (tg::Tensor* t : {&x, &w, &b}) t->zero_grad();
      (tg::relu(tg::linear(x, w, b)) * g).sum().backward();
      const double tolerance = dtype == tg::f32 ? 1e-5 : 1e-12;
      CHECK(tg::testing::all_close(fused_grads[0], x.grad().to_vector(), tolerance));
      CHECK(tg::testing::all_close(fused_grads[1], w.grad().to_vector(), tolerance));
      CHECK(tg::testing::all_close(fused_grads[2], b.grad().to_vector(), tolerance));
      CHECK(tg::testing::all_close(tg::linear_relu(x, w, b).to_vector(),
                                   tg::relu(tg::linear(x, w, b)).to_vector(), tolerance));
    }
  }
}

TEST_CASE("linear_relu refuses bad shapes and dtypes, naming itself") {
  const tg::Tensor x = tg::ones({2, 3});
  TG_CHECK_ERROR(tg::linear_relu(x, tg::ones({4, 2}), tg::ones({4})), "linear_relu",
                 "input [2, 3] with weight [4, 2] and bias [4]");
  TG_CHECK_ERROR(tg::linear_relu(x, tg::ones({4, 3}), tg::ones({3})), "linear_relu", "bias [3]");
  TG_CHECK_ERROR(tg::linear_relu(x, tg::ones({4, 3}, {.dtype = tg::f64})), "linear_relu",
                 "f32 [2, 3] and f64 [4, 3]");
}

TEST_CASE("linear_relu's backward refuses an input written in place since the forward") {
  tg::Tensor x = tg::tensor({1, 2, 3, 4}, {2, 2}, {.dtype = tg::f64});
  tg::Tensor w = leaf({1, 1, 2, -1}, {2, 2});
  const tg::Tensor y = tg::linear_relu(x, w).sum();
  x.add_(1.0);
  const std::string message = tg::testing::error_message([&] { y.backward(); });
  CAPTURE(message);
  CHECK(tg::testing::contains(message, "backward of 'linear_relu'"));
  CHECK(tg::testing::contains(message, "modified by an inplace operation"));
}

TEST_CASE("anomaly mode names linear_relu for a NaN it makes") {
  tg::autograd::DetectAnomalyGuard anomaly;
  const tg::Tensor x =
      tg::tensor({std::numeric_limits<double>::infinity(), 1}, {1, 2}, {.dtype = tg::f64});
  tg::Tensor w = leaf({1, -1}, {1, 2});
  // ∞·1 + 1·(−1) is finite-plus-infinite = ∞, and relu(∞) = ∞.
  TG_CHECK_ERROR(tg::linear_relu(x, w), "anomaly: forward of 'linear_relu' produced Inf");
}

TEST_CASE("linear and linear_relu on a batch of no rows give zero weight and bias gradients") {
  for (const bool fused : {false, true}) {
    CAPTURE(fused);
    tg::Tensor w = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
    tg::Tensor b = leaf({1, -1}, {2});
    const tg::Tensor x = tg::zeros({0, 3}, {.dtype = tg::f64});
    const tg::Tensor y = fused ? tg::linear_relu(x, w, b) : tg::linear(x, w, b);
    CHECK(y.shape() == tg::Shape{0, 2});
    y.sum().backward();
    TG_CHECK_VALUES(w.grad(), {0, 0, 0, 0, 0, 0});
    TG_CHECK_VALUES(b.grad(), {0, 0});
  }
}
