// Higher-order gradients: create_graph, tg::grad, gradgradcheck, Hessian-vector products, Newton.
#include <cmath>
#include <tapegrad/autograd.hpp>

#include "support/testing.hpp"
#include "unary_ops.hpp"

namespace {

using Fn = tg::Tensor (*)(const std::vector<tg::Tensor>&);

tg::Tensor f64_input(std::vector<double> values, tg::Shape shape) {
  return tg::tensor(std::move(values), std::move(shape), {.dtype = tg::f64, .requires_grad = true});
}

// f(x) = Σ tanh(A x)², A fixed.
tg::Tensor tanh_energy(const tg::Tensor& A, const tg::Tensor& x) {
  return tg::pow(tg::tanh(tg::matmul(A, x)), 2.0).sum();
}

}  // namespace

TEST_CASE("every twice-differentiable unary op passes gradgradcheck on several shapes") {
  tg::manual_seed(7);
  const tg::Shape shapes[] = {{}, {5}, {2, 3}};
  for (const auto& op : tg::testing::unary_ops()) {
    if (!op.twice_differentiable) continue;
    SUBCASE(op.label) {
      for (const tg::Shape& shape : shapes) {
        const auto rank = shape.size();
        CAPTURE(rank);
        const tg::Tensor input = op.kinked ? tg::testing::signed_away_from_zero(shape)
                                           : tg::testing::uniform(shape, op.lo, op.hi);
        const auto result = tg::gradgradcheck(
            [&](const std::vector<tg::Tensor>& in) { return op.fn(in[0]); }, {input});
        CHECK_MESSAGE(result.ok, result.report);
      }
    }
  }
}

TEST_CASE("second derivatives of every other op with one pass gradgradcheck") {
  const tg::Tensor a = f64_input({0.3, -0.7, 1.1, 0.45, -1.3, 0.8}, {2, 3});
  const tg::Tensor b = f64_input({0.9, 1.4, 0.6, 1.2, 0.75, 1.6}, {2, 3});
  const tg::Tensor m = f64_input({0.2, -0.4, 0.5, 0.1, 0.3, -0.6}, {3, 2});
  struct Case {
    const char* name;
    Fn fn;
  };
  const Case cases[] = {
      {"mul", [](const std::vector<tg::Tensor>& in) { return in[0] * in[1]; }},
      {"div", [](const std::vector<tg::Tensor>& in) { return in[0] / in[1]; }},
      {"softmax", [](const std::vector<tg::Tensor>& in) { return tg::softmax(in[0], 1); }},
      {"log_softmax", [](const std::vector<tg::Tensor>& in) { return tg::log_softmax(in[0], 0); }},
      {"logsumexp", [](const std::vector<tg::Tensor>& in) { return tg::logsumexp(in[0], 1); }},
      {"mean and sum",
       [](const std::vector<tg::Tensor>& in) {
         return tg::pow(in[0], 2.0).mean(0) + tg::pow(in[1], 2.0).sum();
       }},
      {"matmul",
       [](const std::vector<tg::Tensor>& in) { return tg::matmul(in[0] * in[0], in[2]); }},
      {"linear",
       [](const std::vector<tg::Tensor>& in) {
         return tg::tanh(tg::linear(in[0], in[1], tg::Tensor()));
       }},
      {"broadcast", [](const std::vector<tg::Tensor>& in) { return in[0] * in[1].sum(0); }},
      {"transpose and cat",
       [](const std::vector<tg::Tensor>& in) {
         return tg::cat({in[0].t() * in[2], in[2] * in[2]}, 0);
       }},
      {"gather and index_select",
       [](const std::vector<tg::Tensor>& in) {
         const tg::Tensor idx = tg::tensor({1, 0}, {.dtype = tg::i64});
         return tg::pow(in[0].index_select(1, idx), 2.0) *
                in[1].gather(1, tg::tensor({2, 0, 1, 1}, {2, 2}, {.dtype = tg::i64}));
       }},
  };
  for (const Case& c : cases) {
    SUBCASE(c.name) {
      const auto result = tg::gradgradcheck(c.fn, {a, b, m});
      CHECK_MESSAGE(result.ok, result.report);
    }
  }
}

TEST_CASE("a Hessian-vector product of sum(tanh(Ax)²) equals the finite-difference Hessian's") {
  const tg::Tensor A =
      tg::tensor({0.5, -0.3, 0.8, 0.2, 0.9, -0.4, -0.6, 0.1, 0.7}, {3, 3}, {.dtype = tg::f64});
  const tg::Tensor v = tg::tensor({0.3, -1.0, 0.6}, {.dtype = tg::f64});
  tg::Tensor x = f64_input({0.2, -0.5, 0.4}, {3});

  // Hv = d/dx (∇f(x) · v), with the gradient recorded by create_graph.
  const tg::Tensor g = tg::grad({tanh_energy(A, x)}, {x}, {}, /*create_graph=*/true)[0];
  const std::vector<double> hv = tg::grad({(g * v).sum()}, {x})[0].to_vector();

  // The same from a Hessian built column by column with central differences of the gradient.
  const double eps = 1e-5;
  std::vector<double> expected(3, 0.0);
  for (int j = 0; j < 3; ++j) {
    auto gradient_at = [&](double shift) {
      std::vector<double> shifted = x.to_vector();
      shifted[static_cast<size_t>(j)] += shift;
      tg::Tensor xs = f64_input(shifted, {3});
      return tg::grad({tanh_energy(A, xs)}, {xs})[0].to_vector();
    };
    const std::vector<double> plus = gradient_at(eps), minus = gradient_at(-eps);
    for (size_t i = 0; i < 3; ++i)
      expected[i] += (plus[i] - minus[i]) / (2 * eps) * v.to_vector()[static_cast<size_t>(j)];
  }
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(hv[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

TEST_CASE("a Newton step built with tg::grad(create_graph) lands on a convex quadratic's minimum") {
  // f(w) = ½ wᵀQw − cᵀw, Q = [[3, 1], [1, 2]], c = [1, −1]; minimum where Qw = c: w* = [0.6, −0.8].
  const tg::Tensor Q = tg::tensor({3.0, 1.0, 1.0, 2.0}, {2, 2}, {.dtype = tg::f64});
  const tg::Tensor c = tg::tensor({1.0, -1.0}, {.dtype = tg::f64});
  tg::Tensor w = f64_input({5.0, -7.0}, {2});
  const tg::Tensor f = 0.5 * (w * tg::matmul(Q, w)).sum() - (c * w).sum();
  const tg::Tensor g = tg::grad({f}, {w}, {}, /*create_graph=*/true)[0];
  // The Hessian row by row: H[i] = d g[i] / dw.
  std::vector<double> H;
  for (int64_t i = 0; i < 2; ++i) {
    tg::Tensor pick = tg::zeros({2}, {.dtype = tg::f64});
    pick.data<double>()[i] = 1.0;
    const std::vector<double> row =
        tg::grad({(g * pick).sum()}, {w}, {}, /*create_graph=*/false, /*retain_graph=*/true)[0]
            .to_vector();
    H.insert(H.end(), row.begin(), row.end());
  }
  CHECK(H == std::vector<double>{3.0, 1.0, 1.0, 2.0});
  // w ← w − H⁻¹ g, with the 2×2 inverse written out.
  const std::vector<double> gv = g.to_vector();
  const double det = H[0] * H[3] - H[1] * H[2];
  const std::vector<double> step = {(H[3] * gv[0] - H[1] * gv[1]) / det,
                                    (-H[2] * gv[0] + H[0] * gv[1]) / det};
  const std::vector<double> wv = w.to_vector();
  CHECK(wv[0] - step[0] == doctest::Approx(0.6).epsilon(1e-12));
  CHECK(wv[1] - step[1] == doctest::Approx(-0.8).epsilon(1e-12));
}

TEST_CASE("backward with create_graph makes .grad() differentiable") {
  tg::Tensor x = f64_input({1.5}, {1});
  const tg::Tensor y = tg::pow(x, 3.0).sum();
  y.backward({.create_graph = true});
  const tg::Tensor dy = x.grad();  // 3x² = 6.75
  CHECK(dy.item() == doctest::Approx(6.75));
  CHECK(dy.requires_grad());
  const tg::Tensor d2y = tg::grad({dy.sum()}, {x})[0];  // 6x = 9
  CHECK(d2y.item() == doctest::Approx(9.0));
  x.zero_grad();  // breaks the cycle grad → graph → x, as in PyTorch
}
