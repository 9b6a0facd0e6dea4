// Data-parallel Fashion-MNIST: per-step compute, all-reduce and unhidden waiting of an MLP (Adam,
// global batch 128 unless --batch) with and without DistributedDataParallel, as one JSON line from
// rank 0. Usage: fashion_distributed [--threads N] [--steps S] [--model demo|wide] [--ddp]
//          [--bucket-mb MB] [--fp16] [--pin] [--label TEXT] [--progress-us US]
//          [--batch B]
//   demo: 784-256-128-10 (the demo's MLP); wide: 784-1024-1024-10 (compute-heavy).
//   --batch: the global batch (default 128), split over the ranks.
//   --progress-us: DDPOptions::progress_interval_us (0: no progress thread).
//   --pin: rank r computes on core r (sched_setaffinity of the main thread, after DDP started
//          its progress thread; one BLAS thread per rank is assumed).
// With --ddp it runs under mpirun. Each of S steps (after 5 warm-up steps) is timed; the line
// gives samples/s at the median step, the mean step split into compute (of the slowest and the
// fastest rank) and waiting at the end of backward, and the time the same buckets take to
// all-reduce alone, without a backward to hide behind (so hidden = 1 - waiting / all-reduce).
#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "tapegrad/distributed.hpp"

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The median time of the buckets' all-reduces launched together and waited for, alone (no
// backward to overlap), with the bytes they carry in training (halves with --fp16).
double allreduce_alone(const std::vector<int64_t>& bucket_numels, bool fp16) {
  std::vector<std::vector<unsigned char>> buffers;
  for (int64_t numel : bucket_numels)
    buffers.emplace_back(static_cast<size_t>(numel) * (fp16 ? 2 : 4), 0);
  std::vector<double> times;
  for (int rep = 0; rep < 21; ++rep) {
    MPI_Barrier(MPI_COMM_WORLD);
    const auto start = std::chrono::steady_clock::now();
    std::vector<MPI_Request> requests(buffers.size());
    for (size_t b = 0; b < buffers.size(); ++b)
      MPI_Iallreduce(MPI_IN_PLACE, buffers[b].data(), static_cast<int>(bucket_numels[b]),
                     fp16 ? MPI_UINT16_T : MPI_FLOAT, fp16 ? MPI_BOR : MPI_SUM, MPI_COMM_WORLD,
                     &requests[b]);
    MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
    times.push_back(seconds_since(start));
  }
  return median(times);
}

// The smallest and largest of `value` over the ranks.
std::pair<double, double> min_max(double value) {
  double low = value, high = value;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return {low, high};
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, steps = 200;
  int64_t global_batch = 128;
  bool use_ddp = false, fp16 = false, pin = false;
  double bucket_mb = 25;
  int progress_us = tg::distributed::DDPOptions{}.progress_interval_us;
  std::string model_name = "demo", label = "shared memory";
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    const bool has_value = i + 1 < argc;
    if (key == "--threads" && has_value)
      threads = std::atoi(argv[++i]);
    else if (key == "--steps" && has_value)
      steps = std::atoi(argv[++i]);
    else if (key == "--model" && has_value)
      model_name = argv[++i];
    else if (key == "--bucket-mb" && has_value)
      bucket_mb = std::atof(argv[++i]);
    else if (key == "--batch" && has_value)
      global_batch = std::atoll(argv[++i]);
    else if (key == "--progress-us" && has_value)
      progress_us = std::atoi(argv[++i]);
    else if (key == "--label" && has_value)
      label = argv[++i];
    else if (key == "--ddp")
      use_ddp = true;
    else if (key == "--fp16")
      fp16 = true;
    else if (key == "--pin")
      pin = true;
  }
  int rank = 0, world = 1;
  if (use_ddp) {
    tg::distributed::init_process_group(&argc, &argv);
    rank = tg::distributed::get_rank();
    world = tg::distributed::get_world_size();
  }
  // Pins this (the computing) thread; called after DDP made its progress thread, which keeps
  // the whole machine: pinned beside the compute on a busy core it rarely got to run.
  const auto pin_compute = [&] {
    if (!pin) return;
    cpu_set_t cores;
    CPU_ZERO(&cores);
    CPU_SET(rank, &cores);
    sched_setaffinity(0, sizeof cores, &cores);
  };
  return tg::distributed::run([&] {
    tg::set_num_threads(threads);
    tg::manual_seed(0);
    tg::data::FashionMnist train =
        tg::data::read_fashion_mnist(tg::data::fashion_mnist_dir(), true);
    const tg::data::ElementMoments pixels = tg::data::element_moments(train.images);
    tg::data::standardize_(train.images, pixels.mean, pixels.std);

    const int64_t hidden = model_name == "wide" ? 1024 : 256;
    const int64_t second = model_name == "wide" ? 1024 : 128;
    tg::nn::Sequential net(tg::nn::Linear(784, hidden), tg::nn::ReLU(),
                           tg::nn::Linear(hidden, second), tg::nn::ReLU(),
                           tg::nn::Linear(second, 10));
    std::unique_ptr<tg::distributed::DistributedDataParallel> ddp;
    tg::nn::Module* trained = &net;
    if (use_ddp) {
      tg::distributed::DDPOptions options{.bucket_cap_mb = bucket_mb,
                                          .progress_interval_us = progress_us};
      if (fp16) options.comm_hook = tg::distributed::fp16_compress_hook();
      ddp = std::make_unique<tg::distributed::DistributedDataParallel>(net, options);
      trained = ddp.get();
    }
    pin_compute();
    tg::optim::Adam optimizer(net.parameters(), {.lr = 1e-3});
    tg::data::DataLoader loader(tg::data::TensorDataset(train.images, train.labels),
                                {.batch_size = global_batch / world,
                                 .shuffle = true,
                                 .seed = 0,
                                 .num_replicas = world,
                                 .rank = rank});

    std::vector<double> step_times, wait_times, compute_times;
    // Per bucket: the summed time between its launch and the start of the final wait (its head
    // start, the backward it can hide behind), over the timed steps.
    std::vector<std::chrono::steady_clock::time_point> launched;
    std::vector<double> head_start;
    if (ddp) {
      ddp->set_bucket_observer(
          [&](size_t) { launched.push_back(std::chrono::steady_clock::now()); });
      head_start.assign(ddp->bucket_count(), 0);
    }
    int64_t bytes_before = 0, bytes_per_step = 0;
    for (int64_t epoch = 0; static_cast<int>(step_times.size()) < steps; ++epoch) {
      loader.set_epoch(epoch);
      for (auto [x, y] : loader) {
        const double wait_before = ddp ? ddp->statistics().wait_seconds : 0;
        if (ddp) bytes_before = ddp->statistics().bytes_reduced;
        const auto start = std::chrono::steady_clock::now();
        optimizer.zero_grad();
        launched.clear();
        tg::nn::functional::cross_entropy((*trained)(x), y).backward();
        const auto backward_end = std::chrono::steady_clock::now();
        optimizer.step();
        const double step = seconds_since(start);
        const double wait = (ddp ? ddp->statistics().wait_seconds : 0) - wait_before;
        if (ddp) bytes_per_step = ddp->statistics().bytes_reduced - bytes_before;
        static int warm_up = 5;
        if (warm_up > 0) {
          --warm_up;
          continue;
        }
        step_times.push_back(step);
        wait_times.push_back(wait);
        for (size_t b = 0; b < launched.size() && b < head_start.size(); ++b)
          head_start[b] += std::max(
              0.0, std::chrono::duration<double>(backward_end - launched[b]).count() - wait);
        compute_times.push_back(step - wait);
        if (static_cast<int>(step_times.size()) == steps) break;
      }
    }
    if (std::getenv("TG_BENCH_TRACE") != nullptr)
      for (size_t i = 0; i < step_times.size(); ++i)
        std::fprintf(stderr, "rank %d step %zu: %.3f ms, waiting %.3f ms\n", rank, i,
                     step_times[i] * 1e3, wait_times[i] * 1e3);
    // Medians for the rate; means for the split, since step = compute + waiting holds for
    // means (not for medians of a two-humped distribution: preempted steps are long).
    const auto mean = [](const std::vector<double>& v) {
      double sum = 0;
      for (double x : v) sum += x;
      return v.empty() ? 0 : sum / static_cast<double>(v.size());
    };
    const double step = median(step_times), step_mean = mean(step_times);
    const double wait = mean(wait_times);
    double compute_min = mean(compute_times), compute_max = compute_min, alone = 0;
    size_t buckets = 0;
    if (ddp) {
      std::tie(compute_min, compute_max) = min_max(compute_min);
      buckets = ddp->bucket_count();
      std::vector<int64_t> numels;
      const std::vector<tg::Tensor> parameters = net.parameters();
      for (size_t b = 0; b < buckets; ++b) {
        int64_t numel = 0;
        for (size_t p : ddp->bucket_parameters(b)) numel += parameters[p].numel() + 1;
        numels.push_back(numel);
      }
      alone = allreduce_alone(numels, fp16);
    }
    std::string head_starts;
    for (size_t b = 0; b < head_start.size(); ++b)
      head_starts += (b > 0 ? ", " : "") +
                     std::to_string(head_start[b] * 1e3 / static_cast<double>(step_times.size()));
    if (rank == 0)
      std::printf(
          "{\"model\": \"%s\", \"ddp\": %s, \"ranks\": %d, \"threads_per_rank\": %d, "
          "\"transport\": \"%s\", \"buckets\": %zu, \"fp16\": %s, \"progress_us\": %d, "
          "\"steps\": %d, \"batch\": %lld, "
          "\"samples_per_s\": %.0f, \"step_ms_median\": %.3f, \"step_ms_mean\": %.3f, "
          "\"compute_ms_mean_slowest_rank\": %.3f, \"compute_ms_mean_fastest_rank\": %.3f, "
          "\"wait_ms_mean\": %.3f, \"allreduce_alone_ms\": %.3f, \"hidden_share\": %.2f, "
          "\"wait_share\": %.3f, \"bytes_per_step\": %lld, \"head_start_ms\": [%s]}\n",
          model_name.c_str(), use_ddp ? "true" : "false", world, threads,
          use_ddp ? label.c_str() : "none", buckets, fp16 ? "true" : "false",
          use_ddp ? progress_us : 0, steps, static_cast<long long>(global_batch),
          static_cast<double>(global_batch) / step, step * 1e3, step_mean * 1e3, compute_max * 1e3,
          compute_min * 1e3, wait * 1e3, alone * 1e3,
          alone > 0 ? std::max(0.0, 1 - wait / alone) : 0.0, wait / step_mean,
          static_cast<long long>(bytes_per_step), head_starts.c_str());
    if (use_ddp) tg::distributed::destroy_process_group();
    return 0;
  });
}
