// train_test_split: one seeded permutation cut into a test part and a training part.
#include "tapegrad/data/split.hpp"

#include <fmt/format.h>

#include <cmath>
#include <span>

#include "common.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg::data {

TrainTestSplit train_test_split(const Tensor& X, const Tensor& y, double test_fraction,
                                std::optional<uint64_t> seed) {
  if (!X.defined() || !y.defined() || X.dim() == 0 || y.dim() == 0 || X.shape()[0] != y.shape()[0])
    throw Error(fmt::format("train_test_split: X {} and y {} must have the same first dimension",
                            X.defined() ? format_shape(X.shape()) : "(undefined)",
                            y.defined() ? format_shape(y.shape()) : "(undefined)"));
  if (!(test_fraction > 0.0 && test_fraction < 1.0))
    throw Error(
        fmt::format("train_test_split: test_fraction must be in (0, 1), got {}", test_fraction));
  const int64_t n = X.shape()[0];
  // sklearn's sizes: the test part rounds up, the training part gets the rest.
  const int64_t n_test = static_cast<int64_t>(std::ceil(test_fraction * static_cast<double>(n)));
  const int64_t n_train = n - n_test;
  if (n_train < 1 || n_test < 1)
    throw Error(
        fmt::format("train_test_split: {} samples with test_fraction {} leave {} for "
                    "training and {} for testing; both need at least one",
                    n, test_fraction, n_train, n_test));

  detail::Generator generator(seed ? *seed : random::next_bits());
  const std::vector<int64_t> order = detail::permutation(n, generator);
  const std::span<const int64_t> test(order.data(), static_cast<size_t>(n_test));
  const std::span<const int64_t> train(order.data() + n_test, static_cast<size_t>(n_train));
  const Tensor x = X.detach();
  const Tensor t = y.detach();
  return {detail::gather_rows(x, train), detail::gather_rows(x, test),
          detail::gather_rows(t, train), detail::gather_rows(t, test)};
}

}  // namespace tg::data
