// DataLoader: batch counts and sizes, every sample once per epoch, seeded reproducible shuffles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using tg::data::DataLoader;
using tg::data::DataLoaderOptions;
using tg::data::TensorDataset;

namespace {

// n samples: X [n, 2] with row i = [i, -i], y [n] with y[i] = 1000 + i, so a batch's rows can be
// checked to stay paired.
TensorDataset numbered(int64_t n) {
  std::vector<double> x;
  std::vector<double> y;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<double>(i));
    x.push_back(static_cast<double>(-i));
    y.push_back(static_cast<double>(1000 + i));
  }
  return TensorDataset(tg::tensor(x, {n, 2}, {.dtype = tg::f64}),
                       tg::tensor(y, {n}, {.dtype = tg::i64}));
}

struct Epoch {
  std::vector<int64_t> samples;      // sample ids in visiting order
  std::vector<int64_t> batch_sizes;  // rows of each batch
};

// One epoch of `loader`, checking that every batch's x and y rows belong together.
Epoch run_epoch(DataLoader& loader) {
  Epoch epoch;
  for (auto [x, y] : loader) {
    REQUIRE(x.dim() == 2);
    REQUIRE(x.shape()[1] == 2);
    REQUIRE(y.shape() == tg::Shape{x.shape()[0]});
    const std::vector<double> xs = x.to_vector();
    const std::vector<double> ys = y.to_vector();
    for (size_t r = 0; r < ys.size(); ++r) {
      CHECK(xs[2 * r + 1] == -xs[2 * r]);
      CHECK(ys[r] == 1000 + xs[2 * r]);
      epoch.samples.push_back(static_cast<int64_t>(xs[2 * r]));
    }
    epoch.batch_sizes.push_back(x.shape()[0]);
  }
  return epoch;
}

std::vector<int64_t> sorted(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return values;
}

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> values(static_cast<size_t>(n));
  std::iota(values.begin(), values.end(), int64_t{0});
  return values;
}

}  // namespace

TEST_CASE("DataLoader visits every sample exactly once per shuffled epoch") {
  DataLoader loader(numbered(10), {.batch_size = 3, .shuffle = true, .seed = 7});
  CHECK(loader.size() == 4);  // ceil(10 / 3)
  for (int e = 0; e < 3; ++e) {
    CAPTURE(e);
    const Epoch epoch = run_epoch(loader);
    CHECK(sorted(epoch.samples) == iota(10));
    CHECK(epoch.batch_sizes == std::vector<int64_t>{3, 3, 3, 1});
  }
  CHECK(loader.epoch() == 3);
}

TEST_CASE("DataLoader without shuffle gives the rows in order every epoch") {
  DataLoader loader(numbered(7), {.batch_size = 3});
  for (int e = 0; e < 2; ++e) {
    const Epoch epoch = run_epoch(loader);
    CHECK(epoch.samples == iota(7));
    CHECK(epoch.batch_sizes == std::vector<int64_t>{3, 3, 1});
  }
  CHECK(loader.order(5) == iota(7));
}

TEST_CASE("DataLoader's seeded order is reproducible and changes between epochs") {
  const DataLoaderOptions options{.batch_size = 4, .shuffle = true, .seed = 42};
  DataLoader first(numbered(20), options);
  DataLoader second(numbered(20), options);
  const Epoch first_epoch0 = run_epoch(first);
  const Epoch first_epoch1 = run_epoch(first);
  CHECK(run_epoch(second).samples == first_epoch0.samples);
  CHECK(run_epoch(second).samples == first_epoch1.samples);
  CHECK(first_epoch0.samples != first_epoch1.samples);
  CHECK(first_epoch0.samples != iota(20));

  SUBCASE("order(e) is the order epoch e visits") {
    CHECK(first.order(0) == first_epoch0.samples);
    CHECK(first.order(1) == first_epoch1.samples);
  }
  SUBCASE("set_epoch resumes at any epoch") {
    DataLoader resumed(numbered(20), options);
    resumed.set_epoch(1);
    CHECK(run_epoch(resumed).samples == first_epoch1.samples);
  }
  SUBCASE("another seed gives another order") {
    DataLoader other(numbered(20), {.batch_size = 4, .shuffle = true, .seed = 43});
    CHECK(run_epoch(other).samples != first_epoch0.samples);
  }
}

TEST_CASE("DataLoader without a seed draws one from the global generator at construction") {
  tg::manual_seed(5);
  DataLoader first(numbered(20), {.batch_size = 5, .shuffle = true});
  tg::manual_seed(5);
  DataLoader second(numbered(20), {.batch_size = 5, .shuffle = true});
  tg::manual_seed(6);
  DataLoader third(numbered(20), {.batch_size = 5, .shuffle = true});
  const Epoch epoch = run_epoch(first);
  CHECK(run_epoch(second).samples == epoch.samples);
  CHECK(run_epoch(third).samples != epoch.samples);
  CHECK(sorted(epoch.samples) == iota(20));
}

TEST_CASE("DataLoader with drop_last skips the short last batch") {
  DataLoader loader(numbered(10), {.batch_size = 3, .shuffle = true, .drop_last = true, .seed = 1});
  CHECK(loader.size() == 3);  // floor(10 / 3)
  const Epoch epoch = run_epoch(loader);
  CHECK(epoch.batch_sizes == std::vector<int64_t>{3, 3, 3});
  // The nine visited samples are distinct; the one left out is whichever the shuffle put last.
  std::vector<int64_t> visited = sorted(epoch.samples);
  CHECK(std::adjacent_find(visited.begin(), visited.end()) == visited.end());
  int64_t left_out = -1;
  for (int64_t i = 0; i < 10; ++i)
    if (!std::binary_search(visited.begin(), visited.end(), i)) left_out = i;
  CHECK(loader.order(0).back() == left_out);

  SUBCASE("a size that divides evenly loses nothing") {
    DataLoader even(numbered(9), {.batch_size = 3, .drop_last = true});
    CHECK(even.size() == 3);
    CHECK(run_epoch(even).samples == iota(9));
  }
  SUBCASE("fewer samples than a batch give no batch at all") {
    DataLoader none(numbered(2), {.batch_size = 3, .drop_last = true});
    CHECK(none.size() == 0);
    CHECK(run_epoch(none).samples.empty());
  }
}

TEST_CASE("DataLoader does stochastic, mini-batch and full-batch with the same loop") {
  SUBCASE("batch 1") {
    DataLoader loader(numbered(5), {.batch_size = 1, .shuffle = true, .seed = 3});
    const Epoch epoch = run_epoch(loader);
    CHECK(loader.size() == 5);
    CHECK(epoch.batch_sizes == std::vector<int64_t>(5, 1));
    CHECK(sorted(epoch.samples) == iota(5));
  }
  SUBCASE("the default batch size is 1") {
    DataLoader loader(numbered(4));
    CHECK(loader.size() == 4);
    CHECK(run_epoch(loader).samples == iota(4));
  }
  SUBCASE("batch == n") {
    DataLoader loader(numbered(6), {.batch_size = 6});
    const Epoch epoch = run_epoch(loader);
    CHECK(epoch.batch_sizes == std::vector<int64_t>{6});
    CHECK(epoch.samples == iota(6));
  }
  SUBCASE("batch > n, shuffled: one permuted batch of all samples") {
    DataLoader loader(numbered(6), {.batch_size = 100, .shuffle = true, .seed = 9});
    CHECK(loader.size() == 1);
    const Epoch epoch = run_epoch(loader);
    CHECK(epoch.batch_sizes == std::vector<int64_t>{6});
    CHECK(sorted(epoch.samples) == iota(6));
    CHECK(epoch.samples == loader.order(0));
  }
}

TEST_CASE("DataLoader rejects a batch size below 1") {
  CHECK_THROWS_AS(DataLoader(numbered(3), {.batch_size = 0}), tg::Error);
  const std::string message =
      tg::testing::error_message([] { DataLoader(numbered(3), {.batch_size = -2}); });
  CHECK(tg::testing::contains(message, "batch_size must be >= 1, got -2"));
}

TEST_CASE("DataLoader over an empty dataset has no batches") {
  DataLoader loader(TensorDataset(tg::zeros({0, 2}), tg::zeros({0})),
                    {.batch_size = 4, .shuffle = true, .seed = 0});
  CHECK(loader.size() == 0);
  int batches = 0;
  for (auto [x, y] : loader) ++batches;
  CHECK(batches == 0);
}

namespace {

// A dataset computed on the fly: sample i is x = [i], y = [2i].
class Doubling : public tg::data::Dataset {
 public:
  int64_t size() const override { return 5; }
  tg::data::Batch get_batch(std::span<const int64_t> indices) const override {
    std::vector<double> x(indices.begin(), indices.end());
    std::vector<double> y;
    for (const double v : x) y.push_back(2 * v);
    const int64_t n = static_cast<int64_t>(x.size());
    return {tg::tensor(x, {n, 1}), tg::tensor(y, {n, 1})};
  }
};

}  // namespace

TEST_CASE("DataLoader draws from any Dataset") {
  DataLoader loader(Doubling{}, {.batch_size = 2});
  std::vector<double> xs;
  std::vector<double> ys;
  for (auto [x, y] : loader) {
    for (const double v : x.to_vector()) xs.push_back(v);
    for (const double v : y.to_vector()) ys.push_back(v);
  }
  CHECK(xs == std::vector<double>{0, 1, 2, 3, 4});
  CHECK(ys == std::vector<double>{0, 2, 4, 6, 8});
  CHECK(loader.size() == 3);
}

TEST_CASE("sharded DataLoaders split one epoch's permutation into disjoint strided shards") {
  // 11 samples over 3 ranks: padded to 12 by repeating the permutation's first sample, so each
  // rank gets 4 (DistributedSampler: indices[rank : 12 : 3]).
  const DataLoaderOptions shuffled{.batch_size = 3, .shuffle = true, .seed = 9};
  DataLoader whole(numbered(11), shuffled);
  const std::vector<int64_t> permutation = whole.order(0);
  std::vector<int64_t> padded = permutation;
  padded.push_back(permutation[0]);
  std::vector<int64_t> union_of_shards;
  for (int64_t rank = 0; rank < 3; ++rank) {
    CAPTURE(rank);
    DataLoader shard(
        numbered(11),
        {.batch_size = 3, .shuffle = true, .seed = 9, .num_replicas = 3, .rank = rank});
    CHECK(shard.shard_size() == 4);
    CHECK(shard.size() == 2);  // batches of 3 and 1
    const Epoch epoch = run_epoch(shard);
    CHECK(epoch.batch_sizes == std::vector<int64_t>{3, 1});
    const std::vector<size_t> positions{static_cast<size_t>(rank), static_cast<size_t>(rank) + 3,
                                        static_cast<size_t>(rank) + 6,
                                        static_cast<size_t>(rank) + 9};
    std::vector<int64_t> expected;
    for (size_t p : positions) expected.push_back(padded[p]);
    CHECK(epoch.samples == expected);
    CHECK(shard.order(0) == expected);
    union_of_shards.insert(union_of_shards.end(), epoch.samples.begin(), epoch.samples.end());
  }
  CHECK(sorted(union_of_shards) == sorted(padded));

  SUBCASE("with drop_last the tail is cut instead: 11 samples give 3 per rank") {
    for (int64_t rank = 0; rank < 3; ++rank) {
      DataLoader shard(numbered(11), {.batch_size = 2,
                                      .shuffle = true,
                                      .drop_last = true,
                                      .seed = 9,
                                      .num_replicas = 3,
                                      .rank = rank});
      CHECK(shard.shard_size() == 3);
      CHECK(shard.size() == 1);  // floor(3 / 2)
      CHECK(shard.order(0) == std::vector<int64_t>{permutation[static_cast<size_t>(rank)],
                                                   permutation[static_cast<size_t>(rank) + 3],
                                                   permutation[static_cast<size_t>(rank) + 6]});
    }
  }
  SUBCASE("without shuffle the shards stride through 0, 1, 2, ...") {
    DataLoader shard(numbered(5), {.batch_size = 8, .num_replicas = 2, .rank = 1});
    CHECK(run_epoch(shard).samples == std::vector<int64_t>{1, 3, 0});  // 5 padded with sample 0
  }
  SUBCASE("a sharded loader without a seed uses seed 0 on every rank") {
    tg::manual_seed(1);
    DataLoader a(numbered(8), {.batch_size = 2, .shuffle = true, .num_replicas = 2, .rank = 0});
    tg::manual_seed(2);
    DataLoader b(numbered(8),
                 {.batch_size = 2, .shuffle = true, .seed = 0, .num_replicas = 2, .rank = 0});
    CHECK(a.order(3) == b.order(3));
  }
}

TEST_CASE("DataLoader rejects num_replicas below 1 and a rank that is not below num_replicas") {
  TG_CHECK_ERROR(DataLoader(numbered(4), {.num_replicas = 0}), "DataLoader", "num_replicas",
                 "got 0");
  TG_CHECK_ERROR(DataLoader(numbered(4), {.num_replicas = 2, .rank = 2}), "DataLoader", "rank",
                 "num_replicas = 2", "got 2");
  TG_CHECK_ERROR(DataLoader(numbered(4), {.num_replicas = 2, .rank = -1}), "DataLoader", "rank",
                 "got -1");
}

TEST_CASE("DataLoader's state_dict resumes the same shuffles in a new loader") {
  tg::manual_seed(77);
  DataLoader original(numbered(12), {.batch_size = 4, .shuffle = true});  // a drawn seed
  (void)run_epoch(original);
  (void)run_epoch(original);
  const tg::StateDict state = original.state_dict();
  REQUIRE(state.count("epoch") == 1);
  CHECK(state.at("epoch").dtype() == tg::i64);
  CHECK(state.at("epoch").item() == 2);
  const Epoch third = run_epoch(original);

  tg::manual_seed(78);  // the resumed loader would draw another seed
  DataLoader resumed(numbered(12), {.batch_size = 4, .shuffle = true});
  resumed.load_state_dict(state);
  CHECK(resumed.epoch() == 2);
  CHECK(run_epoch(resumed).samples == third.samples);
}

TEST_CASE("DataLoader::load_state_dict rejects a bad entry and changes nothing") {
  DataLoader loader(numbered(6), {.batch_size = 2, .shuffle = true, .seed = 3});
  loader.set_epoch(4);
  tg::StateDict state = loader.state_dict();
  SUBCASE("missing") {
    state.erase("seed");
    TG_CHECK_ERROR(loader.load_state_dict(state), "DataLoader::load_state_dict", "\"seed\"",
                   "missing");
  }
  SUBCASE("wrong dtype") {
    state["epoch"] = tg::tensor({1.0}, {}, {.dtype = tg::f64});
    TG_CHECK_ERROR(loader.load_state_dict(state), "DataLoader::load_state_dict", "\"epoch\"",
                   "0-D i64", "f64");
  }
  SUBCASE("negative epoch") {
    state["epoch"] = tg::tensor({-1.0}, {}, {.dtype = tg::i64});
    TG_CHECK_ERROR(loader.load_state_dict(state), "DataLoader::load_state_dict", "epoch", "got -1");
  }
  CHECK(loader.epoch() == 4);
}

TEST_CASE("DataLoader's state_dict inside an epoch resumes a new loader at the next batch") {
  // 10 samples in batches of 3: batches 0-3, the last of one sample.
  const DataLoaderOptions options{.batch_size = 3, .shuffle = true, .seed = 9};
  DataLoader straight(numbered(10), options);
  (void)run_epoch(straight);
  const Epoch second = run_epoch(straight);
  const Epoch third = run_epoch(straight);
  REQUIRE(second.batch_sizes == std::vector<int64_t>{3, 3, 3, 1});

  for (int64_t taken = 0; taken <= 4; ++taken) {
    CAPTURE(taken);
    // A run that stops inside epoch 1's loop after `taken` batches (its body has run for them).
    DataLoader stopped(numbered(10), options);
    (void)run_epoch(stopped);
    tg::StateDict state;
    int64_t seen = 0;
    if (taken == 0) {
      auto it = stopped.begin();  // the loop has begun but handed out nothing yet
      (void)it;
      state = stopped.state_dict();
    } else {
      for (auto [x, y] : stopped) {
        (void)x;
        (void)y;
        if (++seen == taken) {
          state = stopped.state_dict();
          break;
        }
      }
    }
    CHECK(state.at("epoch").item() == 1);
    CHECK(state.at("batch").item() == static_cast<double>(taken));

    DataLoader resumed(numbered(10), options);
    resumed.load_state_dict(state);
    CHECK(resumed.epoch() == 1);
    CHECK(resumed.next_batch() == taken);
    const Epoch rest = run_epoch(resumed);
    // The rest of epoch 1: the samples after the first `taken` batches, in the same order.
    const std::vector<int64_t> expected(second.samples.begin() + std::min<int64_t>(3 * taken, 10),
                                        second.samples.end());
    CHECK(rest.samples == expected);
    CHECK(resumed.next_batch() == 0);
    CHECK(run_epoch(resumed).samples == third.samples);
  }
}

TEST_CASE("DataLoader's state_dict after an epoch's loop has ended is the next epoch") {
  DataLoader loader(numbered(7), {.batch_size = 2, .shuffle = true, .seed = 4});
  (void)run_epoch(loader);
  tg::StateDict state = loader.state_dict();
  CHECK(state.at("epoch").item() == 1);
  CHECK(state.at("batch").item() == 0);
  // After set_epoch the position is that epoch's start, whatever loop ran before.
  for (auto [x, y] : loader) {
    (void)x;
    (void)y;
    break;
  }
  CHECK(loader.state_dict().at("batch").item() == 1);
  loader.set_epoch(5);
  CHECK(loader.state_dict().at("epoch").item() == 5);
  CHECK(loader.state_dict().at("batch").item() == 0);
}

TEST_CASE("DataLoader::load_state_dict rejects a batch outside the epoch and changes nothing") {
  DataLoader loader(numbered(6), {.batch_size = 2, .shuffle = true, .seed = 3});
  loader.set_epoch(2);
  tg::StateDict state = loader.state_dict();
  state["batch"] = tg::tensor({4.0}, {}, {.dtype = tg::i64});  // 3 batches per epoch
  TG_CHECK_ERROR(loader.load_state_dict(state), "DataLoader::load_state_dict", "batch", "[0, 3]",
                 "got 4");
  state["batch"] = tg::tensor({-1.0}, {}, {.dtype = tg::i64});
  TG_CHECK_ERROR(loader.load_state_dict(state), "DataLoader::load_state_dict", "batch", "got -1");
  state["batch"] = tg::tensor({1.0}, {}, {.dtype = tg::f32});
  TG_CHECK_ERROR(loader.load_state_dict(state), "DataLoader::load_state_dict", "\"batch\"",
                 "0-D i64");
  CHECK(loader.epoch() == 2);
  CHECK(loader.next_batch() == 0);
  SUBCASE("a state without \"batch\" (saved before it existed) starts the epoch") {
    state.erase("batch");
    loader.load_state_dict(state);
    CHECK(loader.epoch() == 2);
    CHECK(loader.next_batch() == 0);
  }
}
