// train_test_split: sklearn's sizes, rows kept paired, seeded reproducibility and errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using tg::data::train_test_split;
using tg::data::TrainTestSplit;
using tg::testing::contains;
using tg::testing::error_message;

namespace {

// X [n, 2] with row i = [i, 10i]; y [n] with y[i] = i.
tg::Tensor rows_x(int64_t n) {
  std::vector<double> values;
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(static_cast<double>(i));
    values.push_back(static_cast<double>(10 * i));
  }
  return tg::tensor(values, {n, 2}, {.dtype = tg::f64});
}

tg::Tensor rows_y(int64_t n) { return tg::arange(n); }

// Sample ids of one part, checking each X row matches its y.
std::vector<int64_t> ids(const tg::Tensor& x, const tg::Tensor& y) {
  const std::vector<double> xs = x.to_vector();
  const std::vector<double> ys = y.to_vector();
  REQUIRE(xs.size() == 2 * ys.size());
  std::vector<int64_t> out;
  for (size_t r = 0; r < ys.size(); ++r) {
    CHECK(xs[2 * r] == ys[r]);
    CHECK(xs[2 * r + 1] == 10 * ys[r]);
    out.push_back(static_cast<int64_t>(ys[r]));
  }
  return out;
}

}  // namespace

TEST_CASE("train_test_split sizes follow sklearn: the test part rounds up") {
  struct Case {
    int64_t n;
    double fraction;
    int64_t n_test;
  };
  // ceil(10 * 0.25) = ceil(2.5) = 3; ceil(10 * 0.2) = 2; ceil(5 * 0.5) = ceil(2.5) = 3;
  // ceil(7 * 0.1) = ceil(0.7) = 1; ceil(100 * 0.3) = 30
  for (const Case c : {Case{10, 0.25, 3}, Case{10, 0.2, 2}, Case{5, 0.5, 3}, Case{7, 0.1, 1},
                       Case{100, 0.3, 30}}) {
    CAPTURE(c.n);
    CAPTURE(c.fraction);
    const TrainTestSplit split = train_test_split(rows_x(c.n), rows_y(c.n), c.fraction, 0);
    CHECK(split.x_test.shape() == tg::Shape{c.n_test, 2});
    CHECK(split.y_test.shape() == tg::Shape{c.n_test});
    CHECK(split.x_train.shape() == tg::Shape{c.n - c.n_test, 2});
    CHECK(split.y_train.shape() == tg::Shape{c.n - c.n_test});
  }
}

TEST_CASE("train_test_split keeps rows paired and uses each row once") {
  const TrainTestSplit split = train_test_split(rows_x(20), rows_y(20), 0.25, 11);
  std::vector<int64_t> all = ids(split.x_train, split.y_train);
  const std::vector<int64_t> test = ids(split.x_test, split.y_test);
  all.insert(all.end(), test.begin(), test.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(20);
  for (int64_t i = 0; i < 20; ++i) expected[static_cast<size_t>(i)] = i;
  CHECK(all == expected);
  CHECK(split.y_train.dtype() == tg::i64);
  CHECK(split.x_train.dtype() == tg::f64);
}

TEST_CASE("train_test_split is reproducible from its seed") {
  const TrainTestSplit a = train_test_split(rows_x(20), rows_y(20), 0.25, 7);
  const TrainTestSplit b = train_test_split(rows_x(20), rows_y(20), 0.25, 7);
  const TrainTestSplit c = train_test_split(rows_x(20), rows_y(20), 0.25, 8);
  CHECK(a.y_test.to_vector() == b.y_test.to_vector());
  CHECK(a.y_train.to_vector() == b.y_train.to_vector());
  CHECK(a.y_test.to_vector() != c.y_test.to_vector());

  SUBCASE("without a seed, tg::manual_seed decides") {
    tg::manual_seed(3);
    const TrainTestSplit first = train_test_split(rows_x(20), rows_y(20));
    tg::manual_seed(3);
    const TrainTestSplit second = train_test_split(rows_x(20), rows_y(20));
    CHECK(first.y_test.to_vector() == second.y_test.to_vector());
    CHECK(first.y_test.shape() == tg::Shape{5});  // the default fraction 0.25: ceil(20/4) = 5
  }
}

TEST_CASE("train_test_split keeps trailing dimensions") {
  const TrainTestSplit split =
      train_test_split(tg::zeros({6, 2, 3}), tg::zeros({6, 4}, {.dtype = tg::f64}), 0.5, 1);
  CHECK(split.x_train.shape() == tg::Shape{3, 2, 3});
  CHECK(split.x_test.shape() == tg::Shape{3, 2, 3});
  CHECK(split.y_test.shape() == tg::Shape{3, 4});
  CHECK(split.y_test.dtype() == tg::f64);
}

TEST_CASE("train_test_split rejects bad fractions, mismatched rows and empty parts") {
  for (const double fraction : {0.0, 1.0, -0.1, 1.5, std::nan("")}) {
    CAPTURE(fraction);
    CHECK(contains(error_message([&] { train_test_split(rows_x(10), rows_y(10), fraction, 0); }),
                   "test_fraction must be in (0, 1)"));
  }
  const std::string message =
      error_message([] { train_test_split(rows_x(10), rows_y(9), 0.2, 0); });
  CHECK(contains(message, "[10, 2]"));
  CHECK(contains(message, "[9]"));
  // ceil(1 * 0.5) = 1 test sample leaves none for training.
  CHECK(contains(error_message([] { train_test_split(rows_x(1), rows_y(1), 0.5, 0); }),
                 "leave 0 for training and 1 for testing"));
}
