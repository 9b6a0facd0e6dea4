// DistributedDataParallel: N ranks with batch B equal one process with batch N·B step by step;
// buckets overlap the backward; no_sync; unused parameters; failures reach every rank.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tapegrad.hpp>
#include <tapegrad/distributed.hpp>
#include <vector>

#include "support/testing.hpp"

namespace dist = tg::distributed;
using tg::data::DataLoader;
using tg::data::TensorDataset;
using tg::testing::contains;

namespace {

constexpr int64_t kSamples = 23;  // uneven for 2 and 3 ranks: the sharded loader pads

// 23 samples, X [23, 3] and Y [23, 2], from a fixed formula (the same on every rank).
TensorDataset regression_data(tg::DType dtype) {
  std::vector<double> x, y;
  for (int64_t i = 0; i < kSamples; ++i) {
    const double t = static_cast<double>(i);
    const double a = std::sin(0.7 * t), b = std::cos(1.3 * t), c = 0.1 * t - 1;
    x.insert(x.end(), {a, b, c});
    y.insert(y.end(), {a * b - c, 0.5 * a + c * c});
  }
  return TensorDataset(tg::tensor(x, {kSamples, 3}, {.dtype = dtype}),
                       tg::tensor(y, {kSamples, 2}, {.dtype = dtype}));
}

tg::nn::Sequential make_model(tg::DType dtype) {
  tg::manual_seed(1234);  // the same initial weights everywhere (DDP broadcasts rank 0's anyway)
  tg::nn::Sequential model(tg::nn::Linear(3, 8), tg::nn::Tanh(), tg::nn::Linear(8, 2));
  model.to(dtype);
  return model;
}

std::unique_ptr<tg::optim::Optimizer> make_optimizer(const std::string& kind,
                                                     std::vector<tg::Tensor> parameters) {
  if (kind == "sgd")
    return std::make_unique<tg::optim::SGD>(parameters,
                                            tg::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  return std::make_unique<tg::optim::Adam>(parameters, tg::optim::AdamOptions{.lr = 0.01});
}

std::vector<double> flat(const std::vector<tg::Tensor>& tensors) {
  std::vector<double> values;
  for (const tg::Tensor& t : tensors) {
    const std::vector<double> v = t.to_vector();
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

std::vector<tg::Tensor> grads_of(const std::vector<tg::Tensor>& parameters) {
  std::vector<tg::Tensor> grads;
  for (const tg::Tensor& p : parameters) grads.push_back(p.grad());
  return grads;
}

// max |a - b| / max |b|: the error relative to the size of the parameters.
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double difference = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference = std::max(difference, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return difference / scale;
}

// The rows of every rank's batch `step` of `epoch`, rank 0's first: the batch one process with
// batch N·B trains on at that step.
std::vector<int64_t> union_of_rank_batches(const TensorDataset& data, uint64_t seed, int64_t epoch,
                                           int64_t step, int64_t batch, int world) {
  std::vector<int64_t> rows;
  for (int r = 0; r < world; ++r) {
    DataLoader shard(
        data,
        {.batch_size = batch, .shuffle = true, .seed = seed, .num_replicas = world, .rank = r});
    const std::vector<int64_t> order = shard.order(epoch);
    const auto begin = static_cast<size_t>(step * batch);
    const auto end = std::min(order.size(), static_cast<size_t>((step + 1) * batch));
    rows.insert(rows.end(), order.begin() + static_cast<std::ptrdiff_t>(begin),
                order.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return rows;
}

}  // namespace

TEST_CASE("N ranks with batch B follow one process with batch N*B step by step") {
  const int world = dist::get_world_size();
  const int rank = dist::get_rank();
  constexpr int64_t kBatch = 3;
  for (tg::DType dtype : {tg::f64, tg::f32}) {
    for (const std::string optimizer : {"sgd", "adam"}) {
      CAPTURE(tg::dtype_name(dtype));
      CAPTURE(optimizer);
      const double tolerance = dtype == tg::f64 ? 1e-12 : 1e-6;
      const TensorDataset data = regression_data(dtype);

      tg::nn::Sequential model = make_model(dtype);
      dist::DistributedDataParallel ddp(model);
      auto opt = make_optimizer(optimizer, ddp.parameters());
      DataLoader loader(
          data,
          {.batch_size = kBatch, .shuffle = true, .seed = 5, .num_replicas = world, .rank = rank});

      tg::nn::Sequential reference = make_model(dtype);
      auto reference_opt = make_optimizer(optimizer, reference.parameters());

      double worst = 0;
      int64_t steps = 0;
      for (int64_t epoch = 0; epoch < 3; ++epoch) {
        int64_t step = 0;
        for (auto [x, y] : loader) {
          opt->zero_grad();
          tg::F::mse_loss(ddp(x), y).backward();
          opt->step();

          const std::vector<int64_t> rows =
              union_of_rank_batches(data, 5, epoch, step, kBatch, world);
          const tg::data::Batch whole = data.get_batch(rows);
          reference_opt->zero_grad();
          tg::F::mse_loss(reference(whole.x), whole.y).backward();
          reference_opt->step();

          const double error =
              relative_error(flat(model.parameters()), flat(reference.parameters()));
          CAPTURE(epoch);
          CAPTURE(step);
          CHECK(error <= tolerance);
          worst = std::max(worst, error);
          ++step;
          ++steps;
        }
      }
      CHECK(steps >= 5);
      if (rank == 0)
        MESSAGE("world " << world << " " << std::string(tg::dtype_name(dtype)) << " " << optimizer
                         << ": " << steps << " steps, largest relative error " << worst);
    }
  }
}

namespace {

std::vector<std::string>* event_log = nullptr;

// Identity whose backward logs "middle of backward": a point inside the backward walk.
struct LogBackward : tg::autograd::Function<LogBackward> {
  static constexpr const char* name = "log_backward";
  static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x) { return x; }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                          std::vector<tg::Tensor> grad_outputs) {
    if (event_log != nullptr) event_log->push_back("middle of backward");
    return {grad_outputs[0]};  // d(x)/dx = 1
  }
};

struct LogModule : tg::nn::Module {
  tg::Tensor forward(const tg::Tensor& x) override { return LogBackward::apply(x); }
};

// Two Linear layers with the logging identity between them.
tg::nn::Sequential logged_model() {
  tg::manual_seed(99);
  tg::nn::Sequential model(tg::nn::Linear(3, 6), LogModule(), tg::nn::Tanh(), tg::nn::Linear(6, 2));
  model.to(tg::f64);
  return model;
}

// Three SGD steps on this rank's shard; the parameters after them.
std::vector<double> train_three_steps(dist::DistributedDataParallel& ddp, tg::nn::Module& model) {
  tg::optim::SGD sgd(ddp.parameters(), {.lr = 0.05, .momentum = 0.5});
  const TensorDataset data = regression_data(tg::f64);
  DataLoader loader(data, {.batch_size = 2,
                           .shuffle = true,
                           .seed = 8,
                           .num_replicas = dist::get_world_size(),
                           .rank = dist::get_rank()});
  int steps = 0;
  for (auto [x, y] : loader) {
    if (steps++ == 3) break;
    sgd.zero_grad();
    tg::F::mse_loss(ddp(x), y).backward();
    sgd.step();
  }
  return flat(model.parameters());
}

}  // namespace

TEST_CASE("small buckets reduce while the backward runs and give the one-bucket result") {
  tg::nn::Sequential one_model = logged_model();
  dist::DistributedDataParallel one_bucket(one_model);
  CHECK(one_bucket.bucket_count() == 1);
  const std::vector<double> expected = train_three_steps(one_bucket, one_model);

  tg::nn::Sequential model = logged_model();
  // 40 bytes: each parameter (at least 2 doubles, 16 bytes) fills a bucket of its own or shares
  // one with a neighbour that fits.
  dist::DistributedDataParallel ddp(model, {.bucket_cap_mb = 40.0 / (1024 * 1024)});
  // Reverse order, one parameter each here: the last Linear's bias (3) and weight (2), then the
  // first's bias (1) and weight (0).
  REQUIRE(ddp.bucket_count() == 4);
  CHECK(ddp.bucket_parameters(0) == std::vector<size_t>{3});
  CHECK(ddp.bucket_parameters(3) == std::vector<size_t>{0});
  const std::vector<double> actual = train_three_steps(ddp, model);
  CHECK(relative_error(actual, expected) <= 1e-12);

  SUBCASE("the last layer's buckets are launched before the backward walk reaches the first") {
    std::vector<std::string> events;
    event_log = &events;
    ddp.set_bucket_observer(
        [&](size_t bucket) { events.push_back("bucket " + std::to_string(bucket)); });
    const tg::Tensor x = tg::ones({2, 3}, {.dtype = tg::f64});
    tg::F::mse_loss(ddp(x), tg::zeros({2, 2}, {.dtype = tg::f64})).backward();
    events.push_back("backward returned");
    event_log = nullptr;
    CHECK(events == std::vector<std::string>{"bucket 0", "bucket 1", "middle of backward",
                                             "bucket 2", "bucket 3", "backward returned"});
    const dist::DDPStatistics statistics = ddp.statistics();
    CHECK(statistics.synchronized_backwards == 4);
    CHECK(statistics.bucket_reductions == 16);
  }
}

TEST_CASE("the progress thread, polling constantly or not at all, leaves the result alone") {
  tg::nn::Sequential one_model = logged_model();
  dist::DistributedDataParallel one_bucket(one_model, {.progress_interval_us = 0});
  const std::vector<double> expected = train_three_steps(one_bucket, one_model);
  for (int interval : {0, 1, 100}) {
    CAPTURE(interval);
    tg::nn::Sequential model = logged_model();
    dist::DistributedDataParallel ddp(
        model, {.bucket_cap_mb = 40.0 / (1024 * 1024), .progress_interval_us = interval});
    REQUIRE(ddp.bucket_count() == 4);
    CHECK(relative_error(train_three_steps(ddp, model), expected) <= 1e-12);
  }
  tg::nn::Sequential model = logged_model();
  TG_CHECK_ERROR(dist::DistributedDataParallel(model, {.progress_interval_us = -1}),
                 "DistributedDataParallel", "progress_interval_us", "-1");
}

TEST_CASE("backward passes inside no_sync accumulate and the next synced one averages the sum") {
  const int world = dist::get_world_size();
  const int rank = dist::get_rank();
  const TensorDataset data = regression_data(tg::f64);
  tg::nn::Sequential model = make_model(tg::f64);
  dist::DistributedDataParallel ddp(model);
  DataLoader loader(
      data, {.batch_size = 2, .shuffle = true, .seed = 3, .num_replicas = world, .rank = rank});
  std::vector<tg::data::Batch> batches;
  for (auto batch : loader) batches.push_back(batch);
  REQUIRE(batches.size() >= 2);
  {
    auto no_sync = ddp.no_sync();
    (tg::F::mse_loss(ddp(batches[0].x), batches[0].y) * 0.5).backward();
  }
  const std::vector<double> local_only = flat({model.parameters()[0].grad()});
  (tg::F::mse_loss(ddp(batches[1].x), batches[1].y) * 0.5).backward();
  const std::vector<double> averaged = flat(grads_of(model.parameters()));

  // One process: the mean loss over all ranks' first two batches (4·N rows).
  std::vector<int64_t> rows = union_of_rank_batches(data, 3, 0, 0, 2, world);
  const std::vector<int64_t> second = union_of_rank_batches(data, 3, 0, 1, 2, world);
  rows.insert(rows.end(), second.begin(), second.end());
  tg::nn::Sequential reference = make_model(tg::f64);
  const tg::data::Batch whole = data.get_batch(rows);
  tg::F::mse_loss(reference(whole.x), whole.y).backward();
  CHECK(relative_error(averaged, flat(grads_of(reference.parameters()))) <= 1e-12);
  CHECK(ddp.statistics().synchronized_backwards == 1);
  if (world > 1) CHECK(local_only != flat({model.parameters()[0].grad()}));
}

namespace {

// y = x·w + [rank 0 only] x·used_on_rank_0; `never_used` takes part in no forward.
struct PartlyUsed : tg::nn::Module {
  tg::Tensor w = register_parameter("w", tg::tensor({2}, {1}, {.dtype = tg::f64}));
  tg::Tensor used_on_rank_0 =
      register_parameter("used_on_rank_0", tg::tensor({3}, {1}, {.dtype = tg::f64}));
  tg::Tensor never_used =
      register_parameter("never_used", tg::tensor({5}, {1}, {.dtype = tg::f64}));
  tg::Tensor forward(const tg::Tensor& x) override {
    tg::Tensor y = x * w;
    if (tg::distributed::get_rank() == 0) y = y + x * used_on_rank_0;
    return y;
  }
};

}  // namespace

TEST_CASE("a parameter without a gradient on some ranks counts as zeros there") {
  const double n = dist::get_world_size();
  const double r = dist::get_rank();
  PartlyUsed model;
  dist::DistributedDataParallel ddp(model);
  // Rank r's loss: Σ y over x = [r + 1]: d/dw = r + 1 on every rank, d/d used = 1 on rank 0.
  ddp(tg::tensor({r + 1}, {1}, {.dtype = tg::f64})).sum().backward();
  TG_CHECK_VALUES(model.w.grad(), {(n + 1) / 2});  // mean of 1 .. n
  TG_CHECK_VALUES(model.used_on_rank_0.grad(), {1 / n});
  CHECK_FALSE(model.never_used.grad().defined());  // no rank had one: left undefined
}

TEST_CASE("a rank that throws in the wrapped forward at step 3 makes every rank throw") {
  const int world = dist::get_world_size();
  const int failing = world - 1;
  struct FailsAtStep3 : tg::nn::Module {
    tg::nn::Linear& fc = register_module("fc", tg::nn::Linear(2, 1));
    int step = 0;
    tg::Tensor forward(const tg::Tensor& x) override {
      if (++step == 3 && tg::distributed::get_rank() == tg::distributed::get_world_size() - 1)
        throw std::runtime_error("bad batch at step 3");
      return fc(x);
    }
  } model;
  dist::DistributedDataParallel ddp(model);
  const tg::Tensor x = tg::ones({4, 2});
  for (int step = 1; step <= 4; ++step) {
    CAPTURE(step);
    auto train_step = [&] { tg::F::mse_loss(ddp(x), tg::zeros({4, 1})).backward(); };
    if (step == 3) {
      // Run once (TG_CHECK_ERROR would run the step twice and the model counts its calls).
      const std::string message = tg::testing::error_message(train_step);
      CAPTURE(message);
      CHECK(contains(message, "DistributedDataParallel: rank " + std::to_string(failing)));
      CHECK(contains(message, "failed in forward: bad batch at step 3"));
    } else {
      train_step();  // the ranks stay in step after the failure
    }
  }
  CHECK(ddp.statistics().synchronized_backwards == 3);
}

namespace {

// Identity whose backward throws on the last rank.
struct FailingBackward : tg::autograd::Function<FailingBackward> {
  static constexpr const char* name = "failing_backward";
  static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x) { return x; }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                          std::vector<tg::Tensor> grad_outputs) {
    if (tg::distributed::get_rank() == tg::distributed::get_world_size() - 1)
      throw std::runtime_error("backward broke");
    return {grad_outputs[0]};  // d(x)/dx = 1
  }
};

}  // namespace

TEST_CASE("a rank that throws in the wrapped module's backward makes every rank throw") {
  struct Net : tg::nn::Module {
    tg::nn::Linear& fc = register_module("fc", tg::nn::Linear(2, 3));
    tg::Tensor forward(const tg::Tensor& x) override { return FailingBackward::apply(fc(x)); }
  } model;
  dist::DistributedDataParallel ddp(model);
  const std::string expected_rank = "rank " + std::to_string(dist::get_world_size() - 1);
  TG_CHECK_ERROR(ddp(tg::ones({1, 2})).sum().backward(), "DistributedDataParallel",
                 expected_rank.c_str(), "failed in backward", "backward broke");
}

TEST_CASE("ranks whose parameters differ get a tg::Error at construction") {
  const int world = dist::get_world_size();
  const int rank = dist::get_rank();
  const int64_t out = rank == world - 1 && world > 1 ? 3 : 2;
  tg::nn::Linear model(4, out);
  if (world == 1) {
    CHECK_NOTHROW((void)dist::DistributedDataParallel(model));
    return;
  }
  const std::string expected_rank = "rank " + std::to_string(world - 1);
  TG_CHECK_ERROR(dist::DistributedDataParallel(model), "DistributedDataParallel", "differ",
                 "'weight' f32 [3, 4]", expected_rank.c_str(), "'weight' f32 [2, 4] on rank 0");
}

TEST_CASE("DistributedDataParallel's parameters are the wrapped module's, under module.") {
  tg::nn::Linear model(2, 3);
  dist::DistributedDataParallel ddp(model);
  REQUIRE(ddp.parameters().size() == 2);
  CHECK(ddp.parameters()[0].impl() == model.weight.impl());
  CHECK(ddp.named_parameters()[1].first == "module.bias");
  CHECK(&ddp.module() == &model);
  TG_CHECK_ERROR(dist::DistributedDataParallel(model, {.bucket_cap_mb = 0}),
                 "DistributedDataParallel", "bucket_cap_mb", "0");
}

TEST_CASE("construction broadcasts rank 0's parameters") {
  tg::manual_seed(static_cast<uint64_t>(100 + dist::get_rank()));  // different on every rank
  tg::nn::Linear model(3, 2);
  dist::DistributedDataParallel ddp(model);
  tg::Tensor from_rank_0 = model.weight.detach().clone();
  dist::broadcast(from_rank_0, 0);
  CHECK(model.weight.to_vector() == from_rank_0.to_vector());
}

TEST_CASE("a checkpoint written by rank 0 resumes a data-parallel run bit for bit") {
  const TensorDataset data = regression_data(tg::f64);
  const std::string path = "ddp_resume_" + std::to_string(dist::get_world_size()) + ".ckpt";
  constexpr int kEpochs = 4;

  // One data-parallel run of epochs [first, kEpochs), from a checkpoint when `resume`.
  auto train = [&](int first, bool resume, int checkpoint_after) {
    tg::nn::Sequential model = make_model(tg::f64);
    dist::DistributedDataParallel ddp(model);
    auto optimizer = make_optimizer("adam", model.parameters());
    tg::optim::StepLR scheduler(*optimizer, {.step_size = 1, .gamma = 0.5});
    DataLoader loader(data, {.batch_size = 3,
                             .shuffle = true,
                             .seed = 7,
                             .num_replicas = dist::get_world_size(),
                             .rank = dist::get_rank()});
    if (resume) {
      const tg::Metadata metadata = tg::load_checkpoint(path, model, *optimizer, &scheduler);
      CHECK(std::stoi(metadata.at("epoch")) == first);
    }
    for (int epoch = first; epoch < kEpochs; ++epoch) {
      loader.set_epoch(epoch);
      for (auto [x, y] : loader) {
        optimizer->zero_grad();
        tg::F::mse_loss(ddp(x), y).backward();
        optimizer->step();
      }
      scheduler.step();
      if (epoch + 1 == checkpoint_after && dist::get_rank() == 0)
        tg::save_checkpoint(path, model, *optimizer, &scheduler,
                            {{"epoch", std::to_string(epoch + 1)}});
      dist::barrier();  // the file is whole before any rank reads it
    }
    return flat(model.parameters());
  };

  const std::vector<double> straight = train(0, false, kEpochs / 2);
  const std::vector<double> resumed = train(kEpochs / 2, true, -1);
  CHECK(resumed == straight);  // bit for bit
  dist::barrier();
  if (dist::get_rank() == 0) std::remove(path.c_str());
}

namespace {

// One synchronised backward of the regression model in f32 on this rank's first batch of 4;
// the averaged gradients, laid end to end.
std::vector<double> one_step_gradients(const dist::DDPOptions& options,
                                       dist::DDPStatistics* statistics = nullptr) {
  const TensorDataset data = regression_data(tg::f32);
  tg::nn::Sequential model = make_model(tg::f32);
  dist::DistributedDataParallel ddp(model, options);
  DataLoader loader(data, {.batch_size = 4,
                           .shuffle = true,
                           .seed = 11,
                           .num_replicas = dist::get_world_size(),
                           .rank = dist::get_rank()});
  const tg::data::Batch batch = *loader.begin();
  tg::F::mse_loss(ddp(batch.x), batch.y).backward();
  if (statistics != nullptr) *statistics = ddp.statistics();
  return flat(grads_of(model.parameters()));
}

// Sends buckets as f32 unchanged and counts the calls: a user's hook.
struct CountingHook : dist::CommHook {
  mutable int encoded = 0, decoded = 0;
  dist::WireType wire_type(const dist::GradBucket&) const override { return dist::WireType::f32; }
  void encode(const dist::GradBucket& bucket, void* wire) const override {
    ++encoded;
    std::memcpy(wire, bucket.values, static_cast<size_t>(bucket.numel) * sizeof(float));
  }
  void decode(const void* wire, dist::GradBucket& bucket) const override {
    ++decoded;
    std::memcpy(bucket.values, wire, static_cast<size_t>(bucket.numel) * sizeof(float));
  }
};

}  // namespace

TEST_CASE("the f16 compression hook halves the bytes and agrees within half's rounding") {
  dist::DDPStatistics plain_statistics, compressed_statistics;
  const std::vector<double> plain = one_step_gradients({}, &plain_statistics);
  const std::vector<double> compressed =
      one_step_gradients({.comm_hook = dist::fp16_compress_hook()}, &compressed_statistics);
  // 8·3 + 8 + 2·8 + 2 = 50 gradient values and 4 flags in one bucket: 216 bytes as f32.
  CHECK(plain_statistics.bytes_reduced == 54 * 4);
  CHECK(compressed_statistics.bytes_reduced == 54 * 2);
  // Each value rounded to half once (relative 2^-11) and once per addition of the world - 1
  // others: within world · 2^-11 of the largest gradient, but not bit for bit the same.
  const double world = dist::get_world_size();
  CHECK(relative_error(compressed, plain) <= world * std::ldexp(1.0, -11));
  CHECK(compressed != plain);
}

TEST_CASE("a user's communication hook encodes and decodes every bucket once per step") {
  const std::vector<double> plain = one_step_gradients({});
  auto hook = std::make_shared<CountingHook>();
  const std::vector<double> hooked =
      one_step_gradients({.bucket_cap_mb = 40.0 / (1024 * 1024), .comm_hook = hook});
  CHECK(hooked == plain);     // f32 out and back: the same sums as without a hook
  CHECK(hook->encoded == 4);  // one bucket per parameter at 40 bytes
  CHECK(hook->decoded == 4);
}

TEST_CASE("a graph that outlives its wrapper backpropagates locally, without communication") {
  tg::nn::Linear model(2, 1);
  tg::Tensor loss;
  {
    dist::DistributedDataParallel ddp(model);
    loss = ddp(tg::ones({3, 2})).sum();
  }
  loss.backward();  // the output marker finds no wrapper: this rank's gradient only
  TG_CHECK_VALUES(model.weight.grad(), {3.0, 3.0});
}
