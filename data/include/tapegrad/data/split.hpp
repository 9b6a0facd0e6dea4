// tg::data::train_test_split: a seeded random split of samples into a training and a test set.
#pragma once

#include <cstdint>
#include <optional>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data {

/// The four parts of a train/test split, rows in shuffled order.
struct TrainTestSplit {
  Tensor x_train;
  Tensor x_test;
  Tensor y_train;
  Tensor y_test;
};

/// Shuffles the rows of X and y together and puts ceil(n * test_fraction) of them in the test
/// set, the rest in the training set (sklearn's sizes). The order depends only on `seed`;
/// without one it is drawn from the global generator. Throws tg::Error unless
/// 0 < test_fraction < 1, X and y share their first dimension, and both parts are non-empty.
TrainTestSplit train_test_split(const Tensor& X, const Tensor& y, double test_fraction = 0.25,
                                std::optional<uint64_t> seed = std::nullopt);

}  // namespace tg::data
