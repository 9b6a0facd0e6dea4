// DataLoader: epoch orders and batch gathering.
#include "tapegrad/data/dataloader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <span>
#include <utility>

#include "common.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg::data {

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (!dataset_) throw Error("DataLoader: the dataset is null");
  if (options_.batch_size < 1)
    throw Error(fmt::format("DataLoader: batch_size must be >= 1, got {}", options_.batch_size));
  if (options_.num_replicas < 1)
    throw Error(
        fmt::format("DataLoader: num_replicas must be >= 1, got {}", options_.num_replicas));
  if (options_.rank < 0 || options_.rank >= options_.num_replicas)
    throw Error(fmt::format("DataLoader: rank must be in [0, num_replicas = {}), got {}",
                            options_.num_replicas, options_.rank));
  // Drawn once and only when shuffling, so a loader in order leaves the global stream alone.
  // Shards must agree on the permutation, so a sharded loader never draws its own.
  if (options_.shuffle)
    seed_ = options_.seed ? *options_.seed : options_.num_replicas > 1 ? 0 : random::next_bits();
}

bool DataLoader::sharded() const { return options_.num_replicas > 1; }

int64_t DataLoader::shard_size() const {
  const int64_t n = dataset_->size();
  const int64_t r = options_.num_replicas;
  return options_.drop_last ? n / r : n / r + (n % r != 0 ? 1 : 0);
}

int64_t DataLoader::size() const {
  const int64_t n = shard_size();
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : n / b + (n % b != 0 ? 1 : 0);
}

std::vector<int64_t> DataLoader::order(int64_t epoch) const {
  std::vector<int64_t> all;
  if (options_.shuffle) {
    detail::Generator generator(seed_, static_cast<uint64_t>(epoch));
    all = detail::permutation(dataset_->size(), generator);
  } else {
    all.resize(static_cast<size_t>(dataset_->size()));
    std::iota(all.begin(), all.end(), int64_t{0});
  }
  if (!sharded()) return all;
  // DistributedSampler: pad with the first samples (again and again if the dataset is smaller
  // than the padding) or cut, then take every num_replicas-th from rank.
  const int64_t total = shard_size() * options_.num_replicas;
  std::vector<int64_t> shard;
  shard.reserve(static_cast<size_t>(shard_size()));
  for (int64_t i = options_.rank; i < total; i += options_.num_replicas)
    shard.push_back(all[static_cast<size_t>(i % static_cast<int64_t>(all.size()))]);
  return shard;
}

DataLoader::Iterator DataLoader::begin() {
  auto progress = std::make_shared<EpochProgress>();
  progress->epoch = epoch_++;
  if (options_.shuffle || sharded()) progress->order = order(progress->epoch);
  // A restored position starts inside the epoch; one restored past its last batch (saved in
  // the last batch's loop body) has an empty loop left, which ends it.
  progress->handed_out = std::exchange(start_batch_, 0);
  progress->finished = progress->handed_out >= size();
  current_ = progress;
  const int64_t first = progress->handed_out;
  return Iterator(this, std::move(progress), first);
}

void DataLoader::set_epoch(int64_t epoch) {
  epoch_ = epoch;
  start_batch_ = 0;
  current_.reset();
}

StateDict DataLoader::state_dict() const {
  int64_t seed_bits = 0;
  std::memcpy(&seed_bits, &seed_, sizeof seed_bits);
  // Written through the storage: a double cannot hold every 64-bit seed.
  auto scalar_i64 = [](int64_t value) {
    Tensor t = zeros({}, {.dtype = DType::i64});
    t.data<int64_t>()[0] = value;
    return t;
  };
  // Inside a loop that has not ended, the position is that epoch's next batch; otherwise the
  // next begin()'s. set_epoch and load_state_dict drop current_, so it is always the latest.
  const bool inside = current_ && !current_->finished;
  return {{"epoch", scalar_i64(inside ? current_->epoch : epoch_)},
          {"batch", scalar_i64(inside ? current_->handed_out : start_batch_)},
          {"seed", scalar_i64(seed_bits)}};
}

void DataLoader::load_state_dict(const StateDict& state) {
  auto entry = [&](const char* name) -> int64_t {
    const auto it = state.find(name);
    if (it == state.end())
      throw Error(fmt::format("DataLoader::load_state_dict: missing entry \"{}\"", name));
    const Tensor& t = it->second;
    if (!t.defined() || t.dtype() != DType::i64 || t.dim() != 0)
      throw Error(fmt::format(
          "DataLoader::load_state_dict: entry \"{}\" must be a 0-D i64 tensor, got {}", name,
          t.defined() ? fmt::format("{} {}", dtype_name(t.dtype()), format_shape(t.shape()))
                      : std::string("an undefined tensor")));
    return t.data<int64_t>()[0];
  };
  const int64_t epoch = entry("epoch");
  const int64_t seed_bits = entry("seed");
  // States saved before the position within an epoch was kept have no "batch".
  const int64_t batch = state.contains("batch") ? entry("batch") : 0;
  if (epoch < 0)
    throw Error(fmt::format("DataLoader::load_state_dict: epoch must be >= 0, got {}", epoch));
  if (batch < 0 || batch > size())
    throw Error(fmt::format(
        "DataLoader::load_state_dict: batch must be in [0, {}] (the batches per epoch), got {}",
        size(), batch));
  epoch_ = epoch;
  start_batch_ = batch;
  current_.reset();
  std::memcpy(&seed_, &seed_bits, sizeof seed_);
}

void DataLoader::Iterator::advance() {
  ++batch_;
  if (progress_ && loader_ != nullptr && batch_ >= loader_->size()) progress_->finished = true;
}

Batch DataLoader::Iterator::operator*() const {
  if (loader_ == nullptr || !progress_ || batch_ < 0 || batch_ >= loader_->size())
    throw Error("DataLoader::Iterator: dereferenced past the last batch");
  const int64_t batch_size = loader_->options_.batch_size;
  const int64_t start = batch_ * batch_size;
  const int64_t count = std::min(batch_size, loader_->shard_size() - start);
  progress_->handed_out = std::max(progress_->handed_out, batch_ + 1);
  if (!progress_->order.empty()) {
    return loader_->dataset_->get_batch(
        std::span<const int64_t>(progress_->order.data() + start, static_cast<size_t>(count)));
  }
  std::vector<int64_t> rows(static_cast<size_t>(count));
  std::iota(rows.begin(), rows.end(), start);
  return loader_->dataset_->get_batch(rows);
}

}  // namespace tg::data
