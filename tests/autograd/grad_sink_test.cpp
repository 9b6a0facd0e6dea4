// Products adding a leaf's gradient straight into its existing .grad() (beta = 1): the same
// gradients as the engine's own accumulation, and only where that is safe; relu's vectorised
// backward; the in-place arithmetic ops without a temporary.
#include <cmath>
#include <limits>
#include <vector>

#include "support/testing.hpp"

using tg::testing::all_close;
using tg::testing::constant;
using tg::testing::leaf;

namespace {

// Σ_r g[r][o] · x[r][i]: the weight gradient of y = x Wᵀ (+ b) for dL/dy = g, by hand.
std::vector<double> weight_gradient(const std::vector<double>& g, const std::vector<double>& x,
                                    int64_t rows, int64_t out, int64_t in) {
  std::vector<double> dw(static_cast<size_t>(out * in), 0.0);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i)
      for (int64_t r = 0; r < rows; ++r)
        dw[static_cast<size_t>(o * in + i)] +=
            g[static_cast<size_t>(r * out + o)] * x[static_cast<size_t>(r * in + i)];
  return dw;
}

std::vector<double> plus(std::vector<double> a, const std::vector<double>& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  return a;
}

// Inputs [2, 3] and upstream gradients [2, 2] for a 3 → 2 layer, two of each.
const std::vector<double> kX1{0.5, -1.0, 2.0, 1.5, 0.25, -0.75};
const std::vector<double> kX2{-2.0, 1.0, 0.5, 0.125, 3.0, -1.0};
const std::vector<double> kG1{1.0, -2.0, 0.5, 3.0};
const std::vector<double> kG2{-1.5, 0.25, 2.0, -0.5};

// One backward of Σ g ⊙ linear(x, w, b): dW = gᵀ x.
void linear_backward(const tg::Tensor& w, const tg::Tensor& b, const std::vector<double>& x,
                     const std::vector<double>& g, tg::BackwardOptions options = {}) {
  (tg::linear(constant(x, {2, 3}), w, b) * constant(g, {2, 2})).sum().backward(options);
}

}  // namespace

TEST_CASE("linear's weight gradient: the first backward sets .grad, later ones add to it") {
  tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
  tg::Tensor b = leaf({0.0, 0.0}, {2});
  linear_backward(w, b, kX1, kG1);
  const std::vector<double> first = weight_gradient(kG1, kX1, 2, 2, 3);
  CHECK(all_close(w.grad().to_vector(), first, 1e-12));
  const double* buffer = w.grad().data<double>();
  linear_backward(w, b, kX2, kG2);
  const std::vector<double> sum = plus(first, weight_gradient(kG2, kX2, 2, 2, 3));
  CHECK(all_close(w.grad().to_vector(), sum, 1e-12));
  CHECK(w.grad().data<double>() == buffer);  // accumulated in place, as PyTorch's AccumulateGrad
  CHECK(all_close(b.grad().to_vector(), {1.0 + 0.5 - 1.5 + 2.0, -2.0 + 3.0 + 0.25 - 0.5}, 1e-12));

  SUBCASE("zero_grad() leaves it undefined and the next backward sets it anew") {
    w.zero_grad();
    linear_backward(w, b, kX2, kG2);
    CHECK(all_close(w.grad().to_vector(), weight_gradient(kG2, kX2, 2, 2, 3), 1e-12));
  }
  SUBCASE("a .grad zeroed in place starts the sum again") {
    {
      tg::NoGradGuard no_grad;
      w.mutable_grad().zero_();
    }
    linear_backward(w, b, kX2, kG2);
    CHECK(all_close(w.grad().to_vector(), weight_gradient(kG2, kX2, 2, 2, 3), 1e-12));
  }
}

TEST_CASE("linear_relu's and matmul's leaf gradients accumulate across backwards") {
  SUBCASE("linear_relu") {
    // Positive pre-activations throughout, so the mask passes every element.
    tg::Tensor w = leaf({0.5, 0.25, 0.125, 0.5, 0.75, 1.0}, {2, 3});
    const std::vector<double> x{1.0, 2.0, 3.0, 0.5, 1.5, 2.5};
    for (int i = 0; i < 2; ++i)
      (tg::linear_relu(constant(x, {2, 3}), w) * constant(kG1, {2, 2})).sum().backward();
    const std::vector<double> once = weight_gradient(kG1, x, 2, 2, 3);
    CHECK(all_close(w.grad().to_vector(), plus(once, once), 1e-12));
  }
  SUBCASE("matmul of two leaves: x [2, 3] @ v [3, 2]") {
    tg::Tensor x = leaf(kX1, {2, 3});
    tg::Tensor v = leaf({1.0, -1.0, 0.5, 2.0, -0.5, 0.25}, {3, 2});
    // d/dx Σ g ⊙ (x v) = g vᵀ; d/dv = xᵀ g.
    auto dx = [&](const std::vector<double>& g) {
      std::vector<double> out(6, 0.0);
      const std::vector<double> vv = v.to_vector();
      for (int r = 0; r < 2; ++r)
        for (int k = 0; k < 3; ++k)
          for (int c = 0; c < 2; ++c)
            out[size_t(r * 3 + k)] += g[size_t(r * 2 + c)] * vv[size_t(k * 2 + c)];
      return out;
    };
    auto dv = [&](const std::vector<double>& g) {
      std::vector<double> out(6, 0.0);
      for (int k = 0; k < 3; ++k)
        for (int c = 0; c < 2; ++c)
          for (int r = 0; r < 2; ++r)
            out[size_t(k * 2 + c)] += kX1[size_t(r * 3 + k)] * g[size_t(r * 2 + c)];
      return out;
    };
    (tg::matmul(x, v) * constant(kG1, {2, 2})).sum().backward();
    (tg::matmul(x, v) * constant(kG2, {2, 2})).sum().backward();
    CHECK(all_close(x.grad().to_vector(), plus(dx(kG1), dx(kG2)), 1e-12));
    CHECK(all_close(v.grad().to_vector(), plus(dv(kG1), dv(kG2)), 1e-12));
  }
  SUBCASE("one weight used by two layers in one backward gets both contributions") {
    tg::Tensor w = leaf({0.5, -0.25, 0.75, 1.0}, {2, 2});
    const tg::Tensor x = constant({1.0, 2.0, -1.0, 0.5}, {2, 2});
    const tg::Tensor h = tg::linear(x, w);
    tg::linear(h, w).sum().backward();  // d/dw: from the outer layer 1ᵀ h, from the inner
    const std::vector<double> hv = h.to_vector(), wv = w.to_vector(), xv = x.to_vector();
    // dL/dh = 1 W (rows of ones times W): each row [w00 + w10, w01 + w11].
    const std::vector<double> dh{wv[0] + wv[2], wv[1] + wv[3], wv[0] + wv[2], wv[1] + wv[3]};
    const std::vector<double> expected =
        plus(weight_gradient({1, 1, 1, 1}, hv, 2, 2, 2), weight_gradient(dh, xv, 2, 2, 2));
    CHECK(all_close(w.grad().to_vector(), expected, 1e-12));
    tg::linear(tg::linear(x, w), w).sum().backward();
    CHECK(all_close(w.grad().to_vector(), plus(expected, expected), 1e-12));
  }
}

TEST_CASE("a post-accumulate-grad hook sees the summed gradient once per backward") {
  tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
  std::vector<std::vector<double>> seen;
  tg::autograd::register_post_accumulate_grad_hook(
      w, [&](const tg::Tensor& l) { seen.push_back(l.grad().to_vector()); });
  linear_backward(w, tg::Tensor(), kX1, kG1);
  linear_backward(w, tg::Tensor(), kX2, kG2);
  REQUIRE(seen.size() == 2);
  const std::vector<double> first = weight_gradient(kG1, kX1, 2, 2, 3);
  CHECK(all_close(seen[0], first, 1e-12));
  CHECK(all_close(seen[1], plus(first, weight_gradient(kG2, kX2, 2, 2, 3)), 1e-12));
}

TEST_CASE("a .grad shared with another tensor or an operand is updated as the engine would") {
  SUBCASE("a handle to .grad held elsewhere sees the in-place sum, as in PyTorch") {
    tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
    linear_backward(w, tg::Tensor(), kX1, kG1);
    const tg::Tensor held = w.grad();
    linear_backward(w, tg::Tensor(), kX2, kG2);
    const std::vector<double> sum =
        plus(weight_gradient(kG1, kX1, 2, 2, 3), weight_gradient(kG2, kX2, 2, 2, 3));
    CHECK(all_close(held.to_vector(), sum, 1e-12));
  }
  SUBCASE("a .grad that is a contiguous view writes through into its base, and only there") {
    tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
    tg::Tensor base = tg::full({4, 3}, 7.0, {.dtype = tg::f64});
    w.mutable_grad() = base.narrow(0, 1, 2);  // rows 1 and 2 of base
    linear_backward(w, tg::Tensor(), kX1, kG1);
    const std::vector<double> dw = weight_gradient(kG1, kX1, 2, 2, 3);
    const std::vector<double> b = base.to_vector();
    for (int i = 0; i < 3; ++i) {
      CHECK(b[size_t(i)] == 7.0);
      CHECK(b[size_t(9 + i)] == 7.0);
    }
    CHECK(all_close({b.begin() + 3, b.begin() + 9}, plus(std::vector<double>(6, 7.0), dw), 1e-12));
  }
  SUBCASE("a .grad sharing storage with the layer's input is not read while written") {
    // w [2, 2] and x [2, 2]: .grad is x's own buffer, so the product must read x whole first.
    tg::Tensor w = leaf({0.5, -0.25, 0.75, 1.0}, {2, 2});
    const std::vector<double> xv{1.0, 2.0, -1.0, 0.5};
    tg::Tensor x = constant(xv, {2, 2});
    w.mutable_grad() = x;
    const std::vector<double> g{1.0, -2.0, 0.5, 3.0};
    (tg::linear(x, w) * constant(g, {2, 2})).sum().backward();
    CHECK(all_close(x.to_vector(), plus(xv, weight_gradient(g, xv, 2, 2, 2)), 1e-12));
  }
  SUBCASE("a .grad sharing storage with the upstream gradient") {
    tg::Tensor w = leaf({0.5, -0.25, 0.75, 1.0}, {2, 2});
    const std::vector<double> xv{1.0, 2.0, -1.0, 0.5};
    const std::vector<double> gv{1.0, -2.0, 0.5, 3.0};
    tg::Tensor g = constant(gv, {2, 2});
    w.mutable_grad() = g;
    tg::linear(constant(xv, {2, 2}), w).backward(g);
    CHECK(all_close(g.to_vector(), plus(gv, weight_gradient(gv, xv, 2, 2, 2)), 1e-12));
  }
}

TEST_CASE("where the engine does not accumulate in place, neither do the products") {
  SUBCASE("create_graph: the summed .grad is recorded and differentiable") {
    tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
    linear_backward(w, tg::Tensor(), kX1, kG1);
    const double* buffer = w.grad().data<double>();
    // L = Σ g ⊙ (x (w ⊙ w)ᵀ): dL/dw = 2 w ⊙ (gᵀ x), which depends on w.
    (tg::linear(constant(kX2, {2, 3}), w * w) * constant(kG2, {2, 2}))
        .sum()
        .backward({.create_graph = true});
    const std::vector<double> first = weight_gradient(kG1, kX1, 2, 2, 3);
    const std::vector<double> gx = weight_gradient(kG2, kX2, 2, 2, 3);
    const std::vector<double> wv = w.to_vector();
    std::vector<double> expected = first;
    for (size_t i = 0; i < 6; ++i) expected[i] += 2 * wv[i] * gx[i];
    CHECK(all_close(w.grad().to_vector(), expected, 1e-12));
    CHECK(w.grad().requires_grad());
    CHECK(w.grad().data<double>() != buffer);  // a new, recorded sum
    w.zero_grad();  // breaks the cycle grad → graph → w, as in PyTorch
  }
  SUBCASE("tg::grad leaves .grad alone") {
    tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
    linear_backward(w, tg::Tensor(), kX1, kG1);
    const std::vector<double> before = w.grad().to_vector();
    const tg::Tensor loss = (tg::linear(constant(kX2, {2, 3}), w) * constant(kG2, {2, 2})).sum();
    const std::vector<tg::Tensor> got = tg::grad({loss}, {w});
    CHECK(all_close(got[0].to_vector(), weight_gradient(kG2, kX2, 2, 2, 3), 1e-12));
    CHECK(w.grad().to_vector() == before);
  }
  SUBCASE("anomaly mode still sums into .grad") {
    tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
    tg::autograd::DetectAnomalyGuard anomaly;
    linear_backward(w, tg::Tensor(), kX1, kG1);
    linear_backward(w, tg::Tensor(), kX2, kG2);
    CHECK(all_close(w.grad().to_vector(),
                    plus(weight_gradient(kG1, kX1, 2, 2, 3), weight_gradient(kG2, kX2, 2, 2, 3)),
                    1e-12));
  }
  SUBCASE("f32 weights sum in f32") {
    tg::Tensor w = tg::tensor({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3},
                              {.dtype = tg::f32, .requires_grad = true});
    (tg::linear(tg::tensor(kX1, {2, 3}), w) * tg::tensor(kG1, {2, 2})).sum().backward();
    (tg::linear(tg::tensor(kX2, {2, 3}), w) * tg::tensor(kG2, {2, 2})).sum().backward();
    CHECK(w.grad().dtype() == tg::f32);
    CHECK(all_close(w.grad().to_vector(),
                    plus(weight_gradient(kG1, kX1, 2, 2, 3), weight_gradient(kG2, kX2, 2, 2, 3)),
                    1e-5));
  }
}

TEST_CASE("a retained non-leaf gradient still sums over backwards") {
  tg::Tensor w = leaf({0.1, 0.2, 0.3, -0.4, 0.5, -0.6}, {2, 3});
  for (const std::vector<double>* g : {&kG1, &kG2}) {
    tg::Tensor h = tg::linear(constant(kX1, {2, 3}), w);
    h.retain_grad();
    (h * constant(*g, {2, 2})).sum().backward();
    CHECK(h.grad().to_vector() == *g);
  }
  CHECK(all_close(w.grad().to_vector(),
                  plus(weight_gradient(kG1, kX1, 2, 2, 3), weight_gradient(kG2, kX1, 2, 2, 3)),
                  1e-12));
}

TEST_CASE("relu's backward: the gradient times 1 where x > 0 or NaN, else times 0") {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    tg::Tensor x = tg::tensor({-1.0, 0.0, 2.0, nan, -3.0, 0.5, -0.0, 4.0, -2.0}, {9},
                              {.dtype = dtype, .requires_grad = true});
    const tg::Tensor upstream =
        tg::tensor({inf, nan, 3.0, 5.0, -2.0, -inf, 1.0, nan, 2.0}, {9}, {.dtype = dtype});
    tg::relu(x).backward(upstream);
    const std::vector<double> g = x.grad().to_vector();
    CHECK(std::isnan(g[0]));  // inf · 0, as the recorded (create_graph) form computes it
    CHECK(std::isnan(g[1]));  // NaN · 0: anomaly mode can see it
    CHECK(g[2] == 3.0);
    CHECK(g[3] == 5.0);  // a NaN input passes its gradient, as PyTorch's
    CHECK(g[4] == 0.0);
    CHECK(std::signbit(g[4]));  // -2 · 0
    CHECK(g[5] == -inf);
    CHECK(g[6] == 0.0);
    CHECK(std::isnan(g[7]));
    CHECK(g[8] == 0.0);
  }
  SUBCASE("a long tensor (the vectorised loop and its tail) agrees with the mask by hand") {
    const int64_t n = 1037;
    tg::Tensor x = (tg::randn({n}, {.dtype = tg::f32})).detach().set_requires_grad();
    const tg::Tensor upstream = tg::randn({n}, {.dtype = tg::f32});
    tg::relu(x).backward(upstream);
    const std::vector<double> xv = x.to_vector(), uv = upstream.to_vector(),
                              gv = x.grad().to_vector();
    for (int64_t i = 0; i < n; ++i)
      CHECK(gv[size_t(i)] == (xv[size_t(i)] > 0 ? uv[size_t(i)] : 0.0));
  }
}

TEST_CASE("add_, sub_, mul_ and div_ write what the out-of-place ops compute") {
  const std::vector<double> xv{1.5, -2.0, 3.25, 0.0, 7.0, -0.5};
  const std::vector<double> yv{0.5, 4.0, -1.25, 2.0, 3.0, 0.25};
  for (tg::DType dtype : {tg::f64, tg::f32}) {
    CAPTURE(tg::dtype_name(dtype));
    const tg::Tensor y = tg::tensor(yv, {2, 3}, {.dtype = dtype});
    auto fresh = [&] { return tg::tensor(xv, {2, 3}, {.dtype = dtype}); };
    tg::Tensor a = fresh(), s = fresh(), m = fresh(), d = fresh();
    const uint64_t version = s.version();
    a.add_(y);
    s.sub_(y);
    m.mul_(y);
    d.div_(y);
    CHECK(s.version() == version + 1);
    CHECK(a.to_vector() == tg::add(fresh(), y).to_vector());
    CHECK(s.to_vector() == tg::sub(fresh(), y).to_vector());
    CHECK(m.to_vector() == tg::mul(fresh(), y).to_vector());
    CHECK(d.to_vector() == tg::div(fresh(), y).to_vector());
    for (size_t i = 0; i < xv.size(); ++i) {
      CHECK(s.to_vector()[i] == doctest::Approx(xv[i] - yv[i]));
      CHECK(d.to_vector()[i] == doctest::Approx(xv[i] / yv[i]));
    }
    tg::Tensor by_scalar = fresh();
    by_scalar.sub_(0.75).div_(4.0);
    CHECK(by_scalar.to_vector() == ((fresh() - 0.75) / 4.0).to_vector());
    tg::Tensor by_row = fresh();  // a broadcast operand takes the general path
    by_row.div_(tg::tensor({2.0, -4.0, 0.5}, {3}, {.dtype = dtype}));
    CHECK(by_row.to_vector() ==
          tg::div(fresh(), tg::tensor({2.0, -4.0, 0.5}, {3}, {.dtype = dtype})).to_vector());
  }
  SUBCASE("an operand sharing the written storage") {
    tg::Tensor x = tg::tensor({1.0, 2.0, 4.0, 8.0}, {.dtype = tg::f64});
    x.sub_(x);
    CHECK(x.to_vector() == std::vector<double>{0, 0, 0, 0});
    tg::Tensor z = tg::tensor({2.0, 4.0, 6.0, 8.0}, {.dtype = tg::f64});
    z.div_(z[0]);  // one element of z itself: read before any write
    CHECK(z.to_vector() == std::vector<double>{1, 2, 3, 4});
    tg::Tensor v = tg::tensor({1.0, 2.0, 4.0, 8.0}, {.dtype = tg::f64});
    v.narrow(0, 1, 3).sub_(v.narrow(0, 0, 3));  // overlapping, shifted: from the old values
    CHECK(v.to_vector() == std::vector<double>{1, 1, 2, 4});
  }
  SUBCASE("mixed dtypes and i64 keep their rules") {
    tg::Tensor f = tg::tensor({1.0, 2.0}, {.dtype = tg::f32});
    f.sub_(tg::tensor({0.5, 0.25}, {.dtype = tg::f64}));
    CHECK(f.dtype() == tg::f32);
    CHECK(f.to_vector() == std::vector<double>{0.5, 1.75});
    tg::Tensor i = tg::tensor(std::vector<int64_t>{4, 6}, {2});
    CHECK_THROWS_AS(i.div_(tg::tensor(std::vector<int64_t>{2, 3}, {2})), tg::Error);
    i.sub_(tg::tensor(std::vector<int64_t>{1, 2}, {2}));
    CHECK(i.to_vector() == std::vector<double>{3, 4});
  }
  SUBCASE("a leaf that requires grad still refuses them outside NoGradGuard") {
    tg::Tensor w = leaf({1.0, 2.0}, {2});
    CHECK_THROWS_AS(w.sub_(constant({1.0, 1.0}, {2})), tg::Error);
    CHECK_THROWS_AS(w.div_(2.0), tg::Error);
  }
}
