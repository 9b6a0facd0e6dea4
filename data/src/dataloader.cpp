// DataLoader: epoch orders and batch gathering.
#include "tapegrad/data/dataloader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <span>

#include "common.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg::data {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw Error("DataLoader: the dataset is null");
  if (options_.batch_size < 1)
    throw Error(fmt::format("DataLoader: batch_size must be >= 1, got {}", options_.batch_size));
  // Drawn once and only when shuffling, so a loader in order leaves the global stream alone.
  if (options_.shuffle) seed_ = options_.seed ? *options_.seed : random::next_bits();
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : n / b + (n % b != 0 ? 1 : 0);
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  if (!options_.shuffle) {
    std::vector<int64_t> in_order(static_cast<size_t>(dataset_->size()));
    std::iota(in_order.begin(), in_order.end(), int64_t{0});
    return in_order;
  }
  detail::Generator generator(seed_, static_cast<uint64_t>(epoch));
  return detail::permutation(dataset_->size(), generator);
}

DataLoader::Iterator DataLoader::begin() {
  const int64_t epoch = epoch_++;
  std::shared_ptr<const std::vector<int64_t>> order_of_epoch;
  if (options_.shuffle) order_of_epoch = std::make_shared<const std::vector<int64_t>>(order(epoch));
  return Iterator(this, std::move(order_of_epoch), 0);
}

Batch DataLoader::Iterator::operator*() const {
  if (loader_ == nullptr || batch_ < 0 || batch_ >= loader_->size())
    throw Error("DataLoader::Iterator: dereferenced past the last batch");
  const int64_t batch_size = loader_->options_.batch_size;
  const int64_t start = batch_ * batch_size;
  const int64_t count = std::min(batch_size, loader_->dataset_->size() - start);
  if (order_) {
    return loader_->dataset_->get_batch(
        std::span<const int64_t>(order_->data() + start, static_cast<size_t>(count)));
  }
  std::vector<int64_t> rows(static_cast<size_t>(count));
  std::iota(rows.begin(), rows.end(), start);
  return loader_->dataset_->get_batch(rows);
}

}  // namespace tg::data
