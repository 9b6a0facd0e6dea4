// layer_norm and batch_norm ops: values and gradients against written-out f64 loops, every
// option, gradcheck and gradgradcheck, f32 against f64, and errors.
#include <cmath>
#include <functional>
#include <tapegrad/autograd.hpp>

#include "support/testing.hpp"

using tg::testing::constant;
using tg::testing::exact;
using tg::testing::leaf;

namespace {

// The reference: layer norm of `rows` rows of `size` values with plain loops, biased variance.
std::vector<double> layer_norm_reference(const std::vector<double>& x, int64_t rows, int64_t size,
                                         const std::vector<double>& w, const std::vector<double>& b,
                                         double eps) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0;
    for (int64_t k = 0; k < size; ++k) mean += x[static_cast<size_t>(r * size + k)];
    mean /= static_cast<double>(size);
    double var = 0;
    for (int64_t k = 0; k < size; ++k) {
      const double d = x[static_cast<size_t>(r * size + k)] - mean;
      var += d * d;
    }
    var /= static_cast<double>(size);
    for (int64_t k = 0; k < size; ++k) {
      const auto i = static_cast<size_t>(r * size + k);
      const auto uk = static_cast<size_t>(k);
      y[i] = (x[i] - mean) / std::sqrt(var + eps) * (w.empty() ? 1.0 : w[uk]) +
             (b.empty() ? 0.0 : b[uk]);
    }
  }
  return y;
}

// The reference: batch norm of [n, c, l] with plain loops; with `batch_stats` the batch's mean
// and biased variance, else the given mean and var.
std::vector<double> batch_norm_reference(const std::vector<double>& x, int64_t n, int64_t c,
                                         int64_t l, const std::vector<double>& w,
                                         const std::vector<double>& b, bool batch_stats,
                                         std::vector<double> mean, std::vector<double> var,
                                         double eps) {
  auto at = [&](int64_t i, int64_t ch, int64_t k) {
    return static_cast<size_t>((i * c + ch) * l + k);
  };
  if (batch_stats) {
    mean.assign(static_cast<size_t>(c), 0.0);
    var.assign(static_cast<size_t>(c), 0.0);
    for (int64_t ch = 0; ch < c; ++ch) {
      const auto uc = static_cast<size_t>(ch);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < l; ++k) mean[uc] += x[at(i, ch, k)];
      mean[uc] /= static_cast<double>(n * l);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < l; ++k)
          var[uc] += (x[at(i, ch, k)] - mean[uc]) * (x[at(i, ch, k)] - mean[uc]);
      var[uc] /= static_cast<double>(n * l);
    }
  }
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t k = 0; k < l; ++k) {
        const auto uc = static_cast<size_t>(ch);
        y[at(i, ch, k)] =
            (x[at(i, ch, k)] - mean[uc]) / std::sqrt(var[uc] + eps) * (w.empty() ? 1.0 : w[uc]) +
            (b.empty() ? 0.0 : b[uc]);
      }
  return y;
}

// d(Σ_j G_j·f_j(v))/dv_i by central differences of a reference written in plain loops.
std::vector<double> numeric_gradient(
    const std::function<std::vector<double>(const std::vector<double>&)>& f, std::vector<double> v,
    const std::vector<double>& weights) {
  std::vector<double> out(v.size());
  const double h = 1e-6;
  for (size_t i = 0; i < v.size(); ++i) {
    const double keep = v[i];
    v[i] = keep + h;
    const std::vector<double> up = f(v);
    v[i] = keep - h;
    const std::vector<double> down = f(v);
    v[i] = keep;
    double total = 0;
    for (size_t j = 0; j < up.size(); ++j) total += weights[j] * (up[j] - down[j]);
    out[i] = total / (2 * h);
  }
  return out;
}

std::vector<double> uniform_values(size_t count, double lo, double hi) {
  return (tg::rand({static_cast<int64_t>(count)}, {.dtype = tg::f64}) * (hi - lo) + lo).to_vector();
}

}  // namespace

TEST_CASE("layer_norm of [1, 2, 3] is (x − 2)/√(2/3): −√1.5, 0, √1.5") {
  const tg::Tensor y = tg::layer_norm(constant({1, 2, 3}, {3}), {3}, {}, {}, 0.0);
  TG_CHECK_VALUES(y, {-std::sqrt(1.5), 0, std::sqrt(1.5)});
}

TEST_CASE("batch_norm of [[1], [3]] is ±1 and moves the running estimates by momentum") {
  const tg::Tensor running_mean = constant({0}, {1});
  const tg::Tensor running_var = constant({1}, {1});
  const tg::Tensor y = tg::batch_norm(constant({1, 3}, {2, 1}), running_mean, running_var, {}, {},
                                      /*training=*/true, 0.1, 0.0);
  TG_CHECK_VALUES(y, {-1, 1});                // mean 2, biased variance 1
  TG_CHECK_VALUES(running_mean, {0.2});       // 0.9·0 + 0.1·2
  TG_CHECK_VALUES(running_var, {0.9 + 0.2});  // 0.9·1 + 0.1·2 (the unbiased variance)
  const tg::Tensor eval = tg::batch_norm(constant({1.2, 3}, {2, 1}), running_mean, running_var);
  TG_CHECK_VALUES_TOL(eval, 1e-12, {1.0 / std::sqrt(1.1 + 1e-5), 2.8 / std::sqrt(1.1 + 1e-5)});
}

TEST_CASE("layer_norm agrees with the written-out reference, values and gradients") {
  tg::manual_seed(21);
  const int64_t rows = 6, size = 4;  // input [2, 3, 2, 2], normalized_shape [2, 2]
  const std::vector<double> x = uniform_values(24, -2, 3);
  const std::vector<double> w = uniform_values(4, 0.5, 1.5), b = uniform_values(4, -1, 1);
  const std::vector<double> g = uniform_values(24, -1, 1);
  for (bool affine : {true, false}) {
    CAPTURE(affine);
    const std::vector<double> wv = affine ? w : std::vector<double>{};
    const std::vector<double> bv = affine ? b : std::vector<double>{};
    tg::Tensor xt = leaf(x, {2, 3, 2, 2});
    tg::Tensor wt = affine ? leaf(w, {2, 2}) : tg::Tensor();
    tg::Tensor bt = affine ? leaf(b, {2, 2}) : tg::Tensor();
    const tg::Tensor y = tg::layer_norm(xt, {2, 2}, wt, bt, 1e-5);
    CHECK(y.shape() == tg::Shape{2, 3, 2, 2});
    TG_CHECK_VALUES(y, layer_norm_reference(x, rows, size, wv, bv, 1e-5));
    y.backward(constant(g, {2, 3, 2, 2}));
    TG_CHECK_VALUES_TOL(xt.grad(), 1e-7,
                        numeric_gradient(
                            [&](const std::vector<double>& v) {
                              return layer_norm_reference(v, rows, size, wv, bv, 1e-5);
                            },
                            x, g));
    if (!affine) continue;
    TG_CHECK_VALUES_TOL(wt.grad(), 1e-7,
                        numeric_gradient(
                            [&](const std::vector<double>& v) {
                              return layer_norm_reference(x, rows, size, v, bv, 1e-5);
                            },
                            w, g));
    TG_CHECK_VALUES_TOL(bt.grad(), 1e-7,
                        numeric_gradient(
                            [&](const std::vector<double>& v) {
                              return layer_norm_reference(x, rows, size, wv, v, 1e-5);
                            },
                            b, g));
  }
}

TEST_CASE("batch_norm agrees with the written-out reference on [N, C] and [N, C, L]") {
  tg::manual_seed(22);
  for (int64_t l : {int64_t{1}, int64_t{3}}) {
    const int64_t n = 4, c = 3;
    const auto count = static_cast<size_t>(n * c * l);
    const tg::Shape shape = l == 1 ? tg::Shape{n, c} : tg::Shape{n, c, l};
    const std::vector<double> x = uniform_values(count, -2, 3), g = uniform_values(count, -1, 1);
    const std::vector<double> w = uniform_values(3, 0.5, 1.5), b = uniform_values(3, -1, 1);
    const std::vector<double> rm = {0.1, -0.2, 0.3}, rv = {0.5, 1.5, 2.0};
    for (bool training : {true, false})
      for (bool affine : {true, false}) {
        CAPTURE(l);
        CAPTURE(training);
        CAPTURE(affine);
        const std::vector<double> wv = affine ? w : std::vector<double>{};
        const std::vector<double> bv = affine ? b : std::vector<double>{};
        tg::Tensor xt = leaf(x, shape);
        tg::Tensor wt = affine ? leaf(w, {3}) : tg::Tensor();
        tg::Tensor bt = affine ? leaf(b, {3}) : tg::Tensor();
        auto reference = [&](const std::vector<double>& xv, const std::vector<double>& wr,
                             const std::vector<double>& br) {
          return batch_norm_reference(xv, n, c, l, wr, br, training, rm, rv, 1e-5);
        };
        const tg::Tensor y =
            tg::batch_norm(xt, constant(rm, {3}), constant(rv, {3}), wt, bt, training, 0.1, 1e-5);
        TG_CHECK_VALUES(y, reference(x, wv, bv));
        y.backward(constant(g, shape));
        TG_CHECK_VALUES_TOL(
            xt.grad(), 1e-7,
            numeric_gradient([&](const std::vector<double>& v) { return reference(v, wv, bv); }, x,
                             g));
        if (!affine) continue;
        TG_CHECK_VALUES_TOL(
            wt.grad(), 1e-7,
            numeric_gradient([&](const std::vector<double>& v) { return reference(x, v, bv); }, w,
                             g));
        TG_CHECK_VALUES_TOL(
            bt.grad(), 1e-7,
            numeric_gradient([&](const std::vector<double>& v) { return reference(x, wv, v); }, b,
                             g));
      }
  }
}

TEST_CASE("batch_norm in training updates the running estimates with the unbiased variance") {
  const tg::Tensor running_mean = constant({1, -1}, {2});
  const tg::Tensor running_var = constant({2, 0.5}, {2});
  // channel 0 over N·L = 4 values {0, 2, 4, 6}: mean 3, Σd² = 20, unbiased 20/3
  // channel 1 over {1, 1, 3, 3}: mean 2, Σd² = 4, unbiased 4/3
  const tg::Tensor x = constant({0, 2, 1, 1, 4, 6, 3, 3}, {2, 2, 2});
  tg::batch_norm(x, running_mean, running_var, {}, {}, true, 0.25, 1e-5);
  TG_CHECK_VALUES(running_mean, {0.75 * 1 + 0.25 * 3, 0.75 * -1 + 0.25 * 2});
  TG_CHECK_VALUES(running_var, {0.75 * 2 + 0.25 * 20.0 / 3, 0.75 * 0.5 + 0.25 * 4.0 / 3});
  // without running estimates, training uses the batch and changes nothing else
  const tg::Tensor y = tg::batch_norm(x, {}, {}, {}, {}, true, 0.1, 0.0);
  TG_CHECK_VALUES_TOL(y, 1e-12,
                      {-3 / std::sqrt(5.0), -1 / std::sqrt(5.0), -1, -1, 1 / std::sqrt(5.0),
                       3 / std::sqrt(5.0), 1, 1});
}

TEST_CASE("layer_norm and batch_norm pass gradcheck and gradgradcheck in f64") {
  tg::manual_seed(23);
  SUBCASE("layer_norm, with and without affine") {
    const tg::Tensor x = tg::testing::uniform({3, 4}, -2, 2);
    const tg::Tensor w = tg::testing::uniform({4}, 0.5, 1.5), b = tg::testing::uniform({4}, -1, 1);
    auto affine = [](const std::vector<tg::Tensor>& in) {
      return tg::layer_norm(in[0], {4}, in[1], in[2]);
    };
    auto plain = [](const std::vector<tg::Tensor>& in) { return tg::layer_norm(in[0], {2, 2}); };
    TG_CHECK_GRADCHECK(affine, {x, w, b});
    TG_CHECK_GRADCHECK(plain, {tg::testing::uniform({2, 2, 2}, -2, 2)});
    const auto second = tg::gradgradcheck(affine, {x, w, b});
    CHECK_MESSAGE(second.ok, second.report);
    const auto second_plain = tg::gradgradcheck(plain, {tg::testing::uniform({2, 2, 2}, -2, 2)});
    CHECK_MESSAGE(second_plain.ok, second_plain.report);
  }
  SUBCASE("batch_norm, training and evaluation, [N, C] and [N, C, L]") {
    for (bool training : {true, false})
      for (const tg::Shape& shape : {tg::Shape{4, 3}, tg::Shape{3, 3, 2}}) {
        CAPTURE(training);
        CAPTURE(shape.size());
        const tg::Tensor x = tg::testing::uniform(shape, -2, 2);
        const tg::Tensor w = tg::testing::uniform({3}, 0.5, 1.5);
        const tg::Tensor b = tg::testing::uniform({3}, -1, 1);
        // fresh running estimates per call, so that the finite differences see the same ones
        auto bn = [training](const std::vector<tg::Tensor>& in) {
          return tg::batch_norm(in[0], constant({0.1, 0.2, -0.3}, {3}), constant({0.5, 1, 2}, {3}),
                                in[1], in[2], training);
        };
        auto bare = [training](const std::vector<tg::Tensor>& in) {
          return tg::batch_norm(in[0], constant({0.1, 0.2, -0.3}, {3}), constant({0.5, 1, 2}, {3}),
                                {}, {}, training);
        };
        TG_CHECK_GRADCHECK(bn, {x, w, b});
        TG_CHECK_GRADCHECK(bare, {x});
        const auto second = tg::gradgradcheck(bn, {x, w, b});
        CHECK_MESSAGE(second.ok, second.report);
        const auto second_bare = tg::gradgradcheck(bare, {x});
        CHECK_MESSAGE(second_bare.ok, second_bare.report);
      }
  }
}

TEST_CASE_TEMPLATE("the f32 normalisation kernels agree with f64", T, float, double) {
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  const double tolerance = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  tg::manual_seed(24);
  const tg::Tensor x64 = tg::randn({5, 3, 2}, {.dtype = tg::f64}) * 3.0 + 1.0;
  const tg::Tensor w64 = tg::rand({3}, {.dtype = tg::f64}) + 0.5;
  const tg::Tensor g64 = tg::randn({5, 3, 2}, {.dtype = tg::f64});
  SUBCASE("batch_norm in training") {
    tg::Tensor x = x64.to(dtype).set_requires_grad(), w = w64.to(dtype).set_requires_grad();
    tg::Tensor xr = x.detach().to(tg::f64).set_requires_grad();
    tg::Tensor wr = w.detach().to(tg::f64).set_requires_grad();
    const tg::Tensor y = tg::batch_norm(x, {}, {}, w, {}, true);
    const tg::Tensor yr = tg::batch_norm(xr, {}, {}, wr, {}, true);
    CHECK(y.dtype() == dtype);
    TG_CHECK_VALUES_TOL(y.to(tg::f64), tolerance, yr.to_vector());
    y.backward(g64.to(dtype));
    yr.backward(g64);
    TG_CHECK_VALUES_TOL(x.grad().to(tg::f64), tolerance, xr.grad().to_vector());
    TG_CHECK_VALUES_TOL(w.grad().to(tg::f64), 10 * tolerance, wr.grad().to_vector());
  }
  SUBCASE("layer_norm") {
    tg::Tensor x = x64.to(dtype).set_requires_grad(), w = tg::ones({3, 2}, {.dtype = dtype});
    tg::Tensor xr = x.detach().to(tg::f64).set_requires_grad();
    const tg::Tensor y = tg::layer_norm(x, {3, 2}, w);
    const tg::Tensor yr = tg::layer_norm(xr, {3, 2}, tg::ones({3, 2}, {.dtype = tg::f64}));
    TG_CHECK_VALUES_TOL(y.to(tg::f64), tolerance, yr.to_vector());
    y.backward(g64.to(dtype));
    yr.backward(g64);
    TG_CHECK_VALUES_TOL(x.grad().to(tg::f64), tolerance, xr.grad().to_vector());
  }
}

TEST_CASE("layer_norm and batch_norm reject bad shapes, dtypes and options") {
  const tg::Tensor x = constant({1, 2, 3, 4, 5, 6}, {2, 3});
  TG_CHECK_ERROR(tg::layer_norm(x, {2}), "layer_norm", "[2, 3]", "[2]");
  TG_CHECK_ERROR(tg::layer_norm(x, {3}, constant({1, 1}, {2})), "layer_norm", "weight", "[3]",
                 "[2]");
  TG_CHECK_ERROR(tg::layer_norm(x, {3}, tg::ones({3})), "layer_norm", "weight", "f32", "f64");
  TG_CHECK_ERROR(tg::layer_norm(x, {3}, {}, {}, -1.0), "layer_norm", "eps", "-1");
  TG_CHECK_ERROR(tg::layer_norm(tg::testing::labels({1, 2}, {2}), {2}), "layer_norm", "i64");
  TG_CHECK_ERROR(tg::batch_norm(constant({1, 2}, {2}), {}, {}, {}, {}, true), "batch_norm",
                 "[N, C]", "[2]");
  TG_CHECK_ERROR(tg::batch_norm(x, constant({0, 0}, {2}), constant({1, 1}, {2})), "batch_norm",
                 "running_mean", "[3]", "[2]");
  TG_CHECK_ERROR(tg::batch_norm(x, {}, {}), "batch_norm", "running_mean", "[2, 3]");
  TG_CHECK_ERROR(tg::batch_norm(constant({1, 2, 3}, {1, 3}), {}, {}, {}, {}, true), "batch_norm",
                 "more than 1 value", "[1, 3]");
  TG_CHECK_ERROR(tg::batch_norm(x, {}, {}, {}, {}, true, 1.5), "batch_norm", "momentum", "1.5");
}
