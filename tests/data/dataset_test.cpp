// TensorDataset: shape checks, single samples, gathered batches and slices.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using tg::data::Batch;
using tg::data::TensorDataset;
using tg::testing::contains;
using tg::testing::error_message;

namespace {

// X [4, 2] with row i = [10i, 10i + 1]; y [4] with y[i] = i.
TensorDataset four_rows() {
  return TensorDataset(tg::tensor({0, 1, 10, 11, 20, 21, 30, 31}, {4, 2}),
                       tg::tensor({0, 1, 2, 3}, {.dtype = tg::i64}));
}

}  // namespace

TEST_CASE("TensorDataset requires X and y with the same first dimension") {
  const std::string message = error_message([] {
    TensorDataset(tg::zeros({3, 2}), tg::zeros({4}));
  });
  CHECK(contains(message, "[3, 2]"));
  CHECK(contains(message, "[4]"));
  CHECK_THROWS_AS(TensorDataset(tg::scalar(1.0), tg::scalar(1.0)), tg::Error);
  CHECK_THROWS_AS(TensorDataset(tg::zeros({3}), tg::Tensor()), tg::Error);
  CHECK(TensorDataset(tg::zeros({3, 5, 2}), tg::zeros({3, 1})).size() == 3);
}

TEST_CASE("TensorDataset::get returns one row without the batch dimension") {
  const TensorDataset dataset = four_rows();
  CHECK(dataset.size() == 4);
  auto [x, y] = dataset.get(2);
  CHECK(x.shape() == tg::Shape{2});
  CHECK(x.to_vector() == std::vector<double>{20, 21});
  CHECK(y.dim() == 0);
  CHECK(y.dtype() == tg::i64);
  CHECK(y.item() == 2);
  CHECK(contains(error_message([&] { dataset.get(4); }), "index 4 is out of range"));
  CHECK_THROWS_AS(dataset.get(-1), tg::Error);
}

TEST_CASE("TensorDataset::get_batch gathers rows in the order given, repeats included") {
  const TensorDataset dataset = four_rows();
  SUBCASE("scattered") {
    const std::vector<int64_t> rows = {3, 0, 3};
    const Batch batch = dataset.get_batch(rows);
    CHECK(batch.x.shape() == tg::Shape{3, 2});
    CHECK(batch.x.to_vector() == std::vector<double>{30, 31, 0, 1, 30, 31});
    CHECK(batch.y.to_vector() == std::vector<double>{3, 0, 3});
  }
  SUBCASE("a contiguous run followed by a jump back") {
    const std::vector<int64_t> rows = {1, 2, 3, 0};
    const Batch batch = dataset.get_batch(rows);
    CHECK(batch.x.to_vector() == std::vector<double>{10, 11, 20, 21, 30, 31, 0, 1});
    CHECK(batch.y.to_vector() == std::vector<double>{1, 2, 3, 0});
  }
  SUBCASE("empty") {
    const Batch batch = dataset.get_batch({});
    CHECK(batch.x.shape() == tg::Shape{0, 2});
    CHECK(batch.y.shape() == tg::Shape{0});
  }
  SUBCASE("out of range") {
    const std::vector<int64_t> rows = {0, 7};
    CHECK(contains(error_message([&] { dataset.get_batch(rows); }), "index 7"));
  }
}

TEST_CASE("TensorDataset::slice copies a block of consecutive rows") {
  const TensorDataset dataset = four_rows();
  const Batch batch = dataset.slice(1, 2);
  CHECK(batch.x.to_vector() == std::vector<double>{10, 11, 20, 21});
  CHECK(batch.y.to_vector() == std::vector<double>{1, 2});
  CHECK(dataset.slice(4, 0).x.shape() == tg::Shape{0, 2});
  CHECK_THROWS_AS(dataset.slice(3, 2), tg::Error);
  CHECK_THROWS_AS(dataset.slice(-1, 1), tg::Error);
}

TEST_CASE("TensorDataset keeps dtypes and trailing dimensions") {
  // X [3, 2, 2] f64: element (i, j, k) = 100i + 10j + k; y [3, 2] f32.
  std::vector<double> values;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) values.push_back(100 * i + 10 * j + k);
  const TensorDataset dataset(tg::tensor(values, {3, 2, 2}, {.dtype = tg::f64}),
                              tg::tensor({1, 2, 3, 4, 5, 6}, {3, 2}));
  const std::vector<int64_t> rows = {2, 1};
  const Batch batch = dataset.get_batch(rows);
  CHECK(batch.x.dtype() == tg::f64);
  CHECK(batch.x.shape() == tg::Shape{2, 2, 2});
  CHECK(batch.x.to_vector() == std::vector<double>{200, 201, 210, 211, 100, 101, 110, 111});
  CHECK(batch.y.dtype() == tg::f32);
  CHECK(batch.y.to_vector() == std::vector<double>{5, 6, 3, 4});
}

TEST_CASE("TensorDataset batches are copies without history") {
  tg::Tensor X = tg::tensor({1, 2, 3}, {3, 1}).set_requires_grad();
  const TensorDataset dataset(X, tg::tensor({0, 0, 0}));
  Batch batch = dataset.slice(0, 3);
  CHECK_FALSE(batch.x.requires_grad());
  batch.x.data<float>()[0] = 99.0f;
  CHECK(X.to_vector() == std::vector<double>{1, 2, 3});
}
