// The softmax family: softmax, log_softmax and logsumexp, stable for logits of ±1000.
#include <cmath>

#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

TEST_CASE("softmax, log_softmax and logsumexp of a small row") {
  const tg::Tensor z = tg::tensor({1, 2, 3}, {1, 3}, {.dtype = tg::f64});
  const double norm = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  TG_CHECK_VALUES(tg::softmax(z, 1),
                  {std::exp(1.0) / norm, std::exp(2.0) / norm, std::exp(3.0) / norm});
  TG_CHECK_VALUES(tg::log_softmax(z, -1),
                  {1 - std::log(norm), 2 - std::log(norm), 3 - std::log(norm)});
  TG_CHECK_VALUES(tg::logsumexp(z, 1), {std::log(norm)});
  CHECK(tg::logsumexp(z, 1, true).shape() == tg::Shape{1, 1});
}

TEST_CASE("softmax along dim 0 normalises columns") {
  const tg::Tensor z = tg::tensor({0, 5, 0, 5}, {2, 2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::softmax(z, 0), {0.5, 0.5, 0.5, 0.5});
}

TEST_CASE("logits of ±1000 stay finite") {
  tg::Tensor z = leaf({1000, -1000, 0, -1000, 1000, 1000}, {2, 3});
  const tg::Tensor p = tg::softmax(z, 1);
  TG_CHECK_VALUES(p, {1, 0, 0, 0, 0.5, 0.5});
  const tg::Tensor logp = tg::log_softmax(z, 1);
  // row 0: log Σ = 1000 (e^−1000 and e^−2000 vanish); row 1: 1000 + log 2
  TG_CHECK_VALUES_TOL(logp, 1e-9,
                      {0, -2000, -1000, -2000 - std::log(2.0), -std::log(2.0), -std::log(2.0)});
  TG_CHECK_VALUES_TOL(tg::logsumexp(z, 1), 1e-9, {1000, 1000 + std::log(2.0)});
  logp.sum().backward();
  for (double g : z.grad().to_vector()) CHECK(std::isfinite(g));
}

TEST_CASE("the gradient of log_softmax picked at y is onehot(y) − p") {
  tg::Tensor z = leaf({1, 2, 3}, {1, 3});
  const tg::Tensor p = tg::softmax(z, 1).detach();
  tg::log_softmax(z, 1).gather(1, tg::tensor({2}, {1, 1}, {.dtype = tg::i64})).sum().backward();
  const std::vector<double> probabilities = p.to_vector();
  TG_CHECK_VALUES(z.grad(), {-probabilities[0], -probabilities[1], 1 - probabilities[2]});
}

TEST_CASE("the softmax family passes gradcheck along every dim") {
  tg::manual_seed(13);
  const tg::Tensor z = uniform({2, 3, 4}, -3.0, 3.0);
  for (int64_t dim = -3; dim < 3; ++dim) {
    CAPTURE(dim);
    TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return tg::softmax(in[0], dim); },
                       {z});
    TG_CHECK_GRADCHECK(
        [&](const std::vector<tg::Tensor>& in) { return tg::log_softmax(in[0], dim); }, {z});
    TG_CHECK_GRADCHECK(
        [&](const std::vector<tg::Tensor>& in) { return tg::logsumexp(in[0], dim, true); }, {z});
  }
}

TEST_CASE_TEMPLATE("f32 softmax agrees with f64", T, float, double) {
  tg::manual_seed(14);
  const tg::Tensor z64 = tg::randn({8, 10}, {.dtype = tg::f64}) * 5.0;
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-14;
  CHECK(tg::testing::all_close(tg::softmax(z64.to(dtype), 1).to_vector(),
                               tg::softmax(z64, 1).to_vector(), tolerance));
  CHECK(tg::testing::all_close(tg::log_softmax(z64.to(dtype), 1).to_vector(),
                               tg::log_softmax(z64, 1).to_vector(), 100 * tolerance));
}

TEST_CASE("softmax and log_softmax backward: y ⊙ (g − Σ g⊙y) and g − p·Σ g, along either dim") {
  // Each column of [[0, 5], [0, 5]] holds two equal logits, so along dim 0 every p is ½.
  const tg::Tensor g = tg::tensor({1, 2, 3, 6}, {2, 2}, {.dtype = tg::f64});
  SUBCASE("softmax along dim 0 (strided slices)") {
    tg::Tensor z = leaf({0, 5, 0, 5}, {2, 2});
    (tg::softmax(z, 0) * g).sum().backward();
    // column 0: Σ g·y = ½(1 + 3) = 2, dx = ½(1 − 2), ½(3 − 2); column 1: Σ = ½(2 + 6) = 4
    TG_CHECK_VALUES(z.grad(), {-0.5, -1, 0.5, 1});
  }
  SUBCASE("log_softmax along dim 0") {
    tg::Tensor z = leaf({0, 5, 0, 5}, {2, 2});
    (tg::log_softmax(z, 0) * g).sum().backward();
    // column sums of g: 4 and 8; dx = g − ½·Σ
    TG_CHECK_VALUES(z.grad(), {-1, -2, 1, 2});
  }
  SUBCASE("softmax and log_softmax along dim 1 (contiguous rows)") {
    tg::Tensor z = leaf({0, 0, 7, 7}, {2, 2});
    (tg::softmax(z, 1) * g).sum().backward();
    // row 0: Σ g·y = ½(1 + 2) = 1.5 → ½(1 − 1.5), ½(2 − 1.5); row 1: Σ = 4.5 → ½(−1.5), ½(1.5)
    TG_CHECK_VALUES(z.grad(), {-0.25, 0.25, -0.75, 0.75});
    tg::Tensor w = leaf({0, 0, 7, 7}, {2, 2});
    (tg::log_softmax(w, 1) * g).sum().backward();
    // row sums 3 and 9: g − ½·Σ
    TG_CHECK_VALUES(w.grad(), {-0.5, 0.5, -1.5, 1.5});
  }
}

TEST_CASE("softmax and log_softmax pass gradgradcheck along every dim") {
  tg::manual_seed(15);
  const tg::Tensor z = uniform({2, 3, 2}, -2.0, 2.0);
  for (int64_t dim = -3; dim < 3; ++dim) {
    CAPTURE(dim);
    for (const bool log : {false, true}) {
      CAPTURE(log);
      const auto result = tg::gradgradcheck(
          [&](const std::vector<tg::Tensor>& in) {
            return log ? tg::log_softmax(in[0], dim) : tg::softmax(in[0], dim);
          },
          {z});
      CHECK_MESSAGE(result.ok, result.report);
    }
  }
}
