// StandardScaler and MinMaxScaler: statistics and transforms against hand-computed values.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using doctest::Approx;
using tg::data::MinMaxScaler;
using tg::data::StandardScaler;
using tg::testing::contains;
using tg::testing::error_message;

namespace {

void check_values(const tg::Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> values = t.to_vector();
  REQUIRE(values.size() == expected.size());
  for (size_t i = 0; i < values.size(); ++i) {
    CAPTURE(i);
    CHECK(values[i] == Approx(expected[i]).epsilon(1e-12));
  }
}

// Columns [1, 2, 3] and [10, 20, 60].
tg::Tensor three_rows(tg::DType dtype = tg::f64) {
  return tg::tensor({1, 10, 2, 20, 3, 60}, {3, 2}, {.dtype = dtype});
}

}  // namespace

TEST_CASE("StandardScaler uses the mean and the population standard deviation") {
  StandardScaler scaler;
  scaler.fit(three_rows());
  // column 0: mean 6/3 = 2; deviations -1, 0, 1; var (1 + 0 + 1)/3 = 2/3; std 0.816496580927726
  // column 1: mean 90/3 = 30; deviations -20, -10, 30; var (400 + 100 + 900)/3 = 466.666...;
  //           std sqrt(1400/3) = 21.602468994692867
  check_values(scaler.mean(), {2, 30});
  check_values(scaler.var(), {2.0 / 3.0, 1400.0 / 3.0});
  check_values(scaler.scale(), {0.816496580927726, 21.602468994692867});
  CHECK(scaler.n_features() == 2);

  // (1 - 2)/0.8165 = -1.224744871391589, (10 - 30)/21.6025 = -0.9258200997725514,
  // (2 - 2)/0.8165 = 0,                   (20 - 30)/21.6025 = -0.4629100498862757,
  // (3 - 2)/0.8165 = 1.224744871391589,   (60 - 30)/21.6025 = 1.3887301496588271
  const tg::Tensor scaled = scaler.transform(three_rows());
  CHECK(scaled.dtype() == tg::f64);
  check_values(scaled, {-1.224744871391589, -0.9258200997725514, 0, -0.4629100498862757,
                        1.224744871391589, 1.3887301496588271});

  SUBCASE("new data is scaled with the training statistics") {
    // (4 - 2)/0.8165 = 2.449489742783178, (30 - 30)/21.6 = 0
    check_values(scaler.transform(tg::tensor({4, 30}, {1, 2}, {.dtype = tg::f64})),
                 {2.449489742783178, 0});
  }
  SUBCASE("inverse_transform undoes transform") {
    check_values(scaler.inverse_transform(scaled), {1, 10, 2, 20, 3, 60});
  }
}

TEST_CASE("StandardScaler leaves constant columns unscaled") {
  StandardScaler scaler;
  // column 0 constant 5: mean 5, var 0, scale 1; column 1: mean 1.5, var 0.25, scale 0.5
  const tg::Tensor scaled =
      scaler.fit_transform(tg::tensor({5, 1, 5, 2}, {2, 2}, {.dtype = tg::f64}));
  check_values(scaler.scale(), {1, 0.5});
  check_values(scaled, {0, -1, 0, 1});

  SUBCASE("a constant that sums inexactly still has variance exactly 0") {
    // 0.1 + 0.1 + 0.1 = 0.30000000000000004, so the computed mean is not exactly 0.1.
    StandardScaler tenths;
    tenths.fit(tg::tensor({0.1, 0.1, 0.1}, {3, 1}, {.dtype = tg::f64}));
    CHECK(tenths.var().item() == 0.0);
    CHECK(tenths.scale().item() == 1.0);
  }
}

TEST_CASE("StandardScaler keeps f32, turns i64 into f64") {
  StandardScaler scaler;
  const tg::Tensor scaled = scaler.fit_transform(three_rows(tg::f32));
  CHECK(scaled.dtype() == tg::f32);
  CHECK(scaled.to_vector()[0] == Approx(-1.224744871391589).epsilon(1e-6));
  const tg::Tensor from_integers = scaler.transform(three_rows(tg::i64));
  CHECK(from_integers.dtype() == tg::f64);
  check_values(from_integers, {-1.224744871391589, -0.9258200997725514, 0, -0.4629100498862757,
                               1.224744871391589, 1.3887301496588271});
}

TEST_CASE("Scalers reject use before fit and mismatched shapes") {
  StandardScaler standard;
  MinMaxScaler min_max;
  CHECK(contains(error_message([&] { standard.transform(three_rows()); }), "call fit() first"));
  CHECK(contains(error_message([&] { min_max.transform(three_rows()); }), "call fit() first"));
  CHECK_FALSE(standard.is_fitted());
  standard.fit(three_rows());
  min_max.fit(three_rows());
  const std::string message = error_message([&] { standard.transform(tg::zeros({3, 3})); });
  CHECK(contains(message, "[m, 2]"));
  CHECK(contains(message, "[3, 3]"));
  CHECK_THROWS_AS(min_max.transform(tg::zeros({2})), tg::Error);
  CHECK_THROWS_AS(standard.inverse_transform(tg::zeros({1, 5})), tg::Error);
  CHECK_THROWS_AS(standard.fit(tg::zeros({0, 2})), tg::Error);
  CHECK_THROWS_AS(standard.fit(tg::zeros({4})), tg::Error);
  CHECK_THROWS_AS(min_max.fit(tg::zeros({2, 0})), tg::Error);
}

TEST_CASE("MinMaxScaler maps each column's range onto [0, 1] or a chosen range") {
  // columns [1, 3, 2] and [-5, 5, 0]: min 1 and -5, max 3 and 5, range 2 and 10
  const tg::Tensor X = tg::tensor({1, -5, 3, 5, 2, 0}, {3, 2}, {.dtype = tg::f64});
  MinMaxScaler scaler;
  const tg::Tensor scaled = scaler.fit_transform(X);
  check_values(scaler.data_min(), {1, -5});
  check_values(scaler.data_max(), {3, 5});
  check_values(scaler.data_range(), {2, 10});
  // (1-1)/2 = 0, (-5+5)/10 = 0; (3-1)/2 = 1, (5+5)/10 = 1; (2-1)/2 = 0.5, (0+5)/10 = 0.5
  check_values(scaled, {0, 0, 1, 1, 0.5, 0.5});
  check_values(scaler.inverse_transform(scaled), {1, -5, 3, 5, 2, 0});
  // Values outside the fitted range map outside [0, 1]: (5-1)/2 = 2, (-15+5)/10 = -1.
  check_values(scaler.transform(tg::tensor({5, -15}, {1, 2})), {2, -1});

  SUBCASE("feature range [-1, 1]") {
    MinMaxScaler symmetric(-1, 1);
    // -1 + 2 * [0, 0, 1, 1, 0.5, 0.5]
    check_values(symmetric.fit_transform(X), {-1, -1, 1, 1, 0, 0});
    check_values(symmetric.inverse_transform(symmetric.transform(X)), {1, -5, 3, 5, 2, 0});
  }
  SUBCASE("an empty range is rejected") {
    CHECK(contains(error_message([] { MinMaxScaler(1, 1); }), "low < high, got [1, 1]"));
    CHECK_THROWS_AS(MinMaxScaler(2, 1), tg::Error);
  }
}

TEST_CASE("MinMaxScaler gives a constant column range 1") {
  MinMaxScaler scaler;
  // column 0 constant 4: range 1, fitted values (4 - 4)/1 = 0; column 1: [0, 2] -> [0, 1]
  const tg::Tensor scaled =
      scaler.fit_transform(tg::tensor({4, 0, 4, 2}, {2, 2}, {.dtype = tg::f64}));
  check_values(scaler.data_range(), {1, 2});
  check_values(scaled, {0, 0, 0, 1});
  // New data in the constant column is only shifted: 6 - 4 = 2.
  check_values(scaler.transform(tg::tensor({6, 1}, {1, 2})), {2, 0.5});
}

TEST_CASE("element_moments gives the mean and population std of every element") {
  // 1, 10, 2, 20, 3, 60: mean 96/6 = 16; deviations -15, -6, -14, 4, -13, 44;
  // squares 225 + 36 + 196 + 16 + 169 + 1936 = 2578; var 2578/6; std sqrt(429.666...)
  for (const tg::DType dtype : {tg::f32, tg::f64}) {
    const std::string dtype_name(tg::dtype_name(dtype));
    CAPTURE(dtype_name);
    const tg::data::ElementMoments moments = tg::data::element_moments(three_rows(dtype));
    CHECK(moments.mean == Approx(16.0).epsilon(1e-12));
    CHECK(moments.std == Approx(std::sqrt(2578.0 / 6.0)).epsilon(1e-12));
  }
  SUBCASE("an i64 or empty tensor is refused") {
    CHECK(contains(
        error_message([] { tg::data::element_moments(tg::zeros({2}, {.dtype = tg::i64})); }),
        "element_moments: X must be a non-empty f32 or f64 tensor, got i64 [2]"));
    CHECK(contains(error_message([] {
                     tg::data::element_moments(tg::zeros({0, 3}));
                   }),
                   "got f32 [0, 3]"));
  }
}

TEST_CASE("standardize_ writes (x - mean) / std into the tensor itself") {
  SUBCASE("f64 and f32, in the same storage, with the version bumped") {
    for (const tg::DType dtype : {tg::f64, tg::f32}) {
      const std::string dtype_name(tg::dtype_name(dtype));
      CAPTURE(dtype_name);
      tg::Tensor x = three_rows(dtype);
      const tg::Tensor same_storage = x;  // a second handle: sees the write only if in place
      const uint64_t version = x.version();
      tg::data::standardize_(x, 2.0, 4.0);
      // (1 - 2)/4, (10 - 2)/4, (2 - 2)/4, (20 - 2)/4, (3 - 2)/4, (60 - 2)/4: exact in both dtypes
      CHECK(x.to_vector() == std::vector<double>{-0.25, 2.0, 0.0, 4.5, 0.25, 14.5});
      CHECK(same_storage.to_vector() == x.to_vector());
      CHECK(x.version() > version);
      CHECK(x.dtype() == dtype);
    }
  }
  SUBCASE("with element_moments, the result has mean 0 and std 1") {
    tg::Tensor x = three_rows();
    const tg::data::ElementMoments moments = tg::data::element_moments(x);
    tg::data::standardize_(x, moments.mean, moments.std);
    const tg::data::ElementMoments after = tg::data::element_moments(x);
    CHECK(after.mean == Approx(0.0).epsilon(1e-12).scale(1.0));
    CHECK(after.std == Approx(1.0).epsilon(1e-12));
  }
  SUBCASE("refused: i64, a tensor that requires grad or was recorded, a bad std") {
    tg::Tensor integers = tg::zeros({2}, {.dtype = tg::i64});
    CHECK(contains(error_message([&] { tg::data::standardize_(integers, 0, 1); }),
                   "standardize_: X must be an f32 or f64 tensor, got i64 [2]"));
    tg::Tensor parameter = tg::zeros({2, 3}, {.requires_grad = true});
    CHECK(contains(error_message([&] { tg::data::standardize_(parameter, 0, 1); }),
                   "standardize_: X of shape [2, 3] requires grad"));
    tg::Tensor recorded = parameter * 2.0;
    CHECK(contains(error_message([&] { tg::data::standardize_(recorded, 0, 1); }),
                   "was computed by a recorded op"));
    tg::Tensor x = three_rows();
    for (const double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
      CAPTURE(bad);
      CHECK(contains(error_message([&] { tg::data::standardize_(x, 0, bad); }),
                     "std positive and finite"));
    }
    CHECK(contains(error_message([&] { tg::data::standardize_(x, std::nan(""), 1); }),
                   "mean must be finite"));
    CHECK(x.to_vector() == std::vector<double>{1, 10, 2, 20, 3, 60});
  }
}
