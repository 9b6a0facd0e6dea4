// tg::data::DataLoader: batches of a dataset, in order or reshuffled every epoch, reproducibly.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tapegrad/autograd/state_dict.hpp"
#include "tapegrad/data/dataset.hpp"

namespace tg::data {

/// How a DataLoader cuts a dataset into batches (fields and defaults as torch's DataLoader).
struct DataLoaderOptions {
  int64_t batch_size = 1;  ///< samples per batch; >= 1 (batch_size >= size() gives one batch)
  bool shuffle = false;    ///< a new random order every epoch
  bool drop_last = false;  ///< skip a last batch smaller than batch_size
  /// Seed of the shuffle: epoch e's order depends only on (seed, e). Without one, the loader
  /// draws its seed once, at construction, from the global generator (tg::manual_seed).
  std::optional<uint64_t> seed = std::nullopt;
  /// Data-parallel sharding (PyTorch's DistributedSampler): the number of ranks reading this
  /// dataset and this loader's rank. Every rank draws the same permutation of epoch e (give
  /// every rank the same seed; a sharded loader without one uses seed 0, as DistributedSampler
  /// does), pads it by repeating its first samples up to a multiple of num_replicas (or, with
  /// drop_last, cuts it down to one), and takes every num_replicas-th sample starting at rank,
  /// so the shards are disjoint but for the padding and all ranks run the same number of steps.
  int64_t num_replicas = 1;
  int64_t rank = 0;  ///< in [0, num_replicas)
};

/// Iterates over a dataset in batches; each `for` loop over it (each begin()) is one epoch.
///
///     tg::data::DataLoader loader(tg::data::TensorDataset(X, y),
///                                 {.batch_size = 128, .shuffle = true, .seed = 42});
///     for (int epoch = 0; epoch < 5; ++epoch)
///       for (auto [x, y] : loader) { /* x [128, ...], y [128, ...]; the last may be smaller */ }
///
/// With shuffle, epoch e visits every sample exactly once in a permutation that is a function of
/// (seed, e) alone: two loaders with the same seed give the same batches, epoch by epoch.
class DataLoader {
  // One started epoch: its sample order (empty when in order) and how far its loop has got,
  // shared by the loader and the epoch's iterators so that state_dict() can see the position.
  struct EpochProgress {
    int64_t epoch = 0;
    std::vector<int64_t> order;
    int64_t handed_out = 0;  // batches dereferenced so far (the next one to hand out)
    bool finished = false;   // an iterator stepped past the last batch: the loop has ended
  };

 public:
  /// Walks one epoch; dereferencing gathers the current batch.
  class Iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    /// The current batch, copied out of the dataset; counts it as handed out (see state_dict).
    Batch operator*() const;
    Iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    /// Iterators compare by batch position, so any iterator equals end() once exhausted.
    bool operator==(const Iterator& other) const { return batch_ == other.batch_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::shared_ptr<EpochProgress> progress, int64_t batch)
        : loader_(loader), progress_(std::move(progress)), batch_(batch) {}
    void advance();

    const DataLoader* loader_ = nullptr;
    std::shared_ptr<EpochProgress> progress_;  ///< the epoch's order and how far it has got
    int64_t batch_ = 0;
  };

  /// Batches of a dataset held by shared pointer; throws tg::Error if batch_size < 1.
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  /// Batches of a copy of `dataset` (a TensorDataset copies only tensor handles).
  template <std::derived_from<Dataset> D>
  DataLoader(D dataset, DataLoaderOptions options = {})
      : DataLoader(std::make_shared<const D>(std::move(dataset)), options) {}

  /// Starts the next epoch: draws its order (if shuffling) and returns its first batch.
  Iterator begin();
  /// Past the last batch of any epoch.
  Iterator end() const { return Iterator(this, nullptr, size()); }

  /// Batches per epoch: ceil(m / batch_size), or floor with drop_last, where m is the number of
  /// samples of this rank's shard (n when not sharded).
  int64_t size() const;
  /// Samples per epoch on this rank: n, or ceil(n / num_replicas) (floor with drop_last).
  int64_t shard_size() const;
  /// The epoch the next begin() starts (0 for a new loader; after load_state_dict, the epoch
  /// the saved run was in).
  int64_t epoch() const { return epoch_; }
  /// The batch the next begin() starts at: 0, or after load_state_dict the first batch the
  /// saved run had not yet been handed.
  int64_t next_batch() const { return start_batch_; }
  /// Makes the next begin() start epoch `epoch` at its first batch (e.g. to resume training
  /// reproducibly from an epoch number).
  void set_epoch(int64_t epoch);
  /// This rank's sample order in epoch `epoch`, without starting it (0, 1, ... when neither
  /// shuffling nor sharding).
  std::vector<int64_t> order(int64_t epoch) const;

  /// The loader's position, as 0-D i64 tensors: "epoch" and "batch" (where a restored loader's
  /// next begin() starts) and "seed" (the shuffle's seed, bit-cast to i64), so a resumed run
  /// draws the same batches as an uninterrupted one. Inside an epoch's loop (the loop has not
  /// ended) the position is that epoch and the first batch not yet handed out, so a checkpoint
  /// taken after any batch resumes right after it; once the loop has ended, it is the next
  /// epoch's first batch.
  StateDict state_dict() const;
  /// Restores state_dict() (a state without "batch" starts its epoch at batch 0); throws
  /// tg::Error naming the entry (missing, not a 0-D i64 tensor, a negative epoch, a batch
  /// outside [0, size()]) and changes nothing on error.
  void load_state_dict(const StateDict& state);

  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }

 private:
  bool sharded() const;

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  uint64_t seed_ = 0;
  int64_t epoch_ = 0;
  int64_t start_batch_ = 0;                 // where the next begin() starts (after a restore)
  std::shared_ptr<EpochProgress> current_;  // the epoch begin() started last, if any
};

}  // namespace tg::data
