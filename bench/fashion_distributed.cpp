// Data-parallel Fashion-MNIST: samples/s of the demo's MLP (Adam, global batch 128) with and
// without DistributedDataParallel, and the share of each step spent waiting for the all-reduce.
// Usage: fashion_distributed --threads N --epochs E [--ddp]   (under mpirun with --ddp; prints
// one JSON line from rank 0)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad.hpp"
#include "tapegrad/distributed.hpp"

int main(int argc, char** argv) {
  int threads = 1, epochs = 2;
  bool use_ddp = false;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--threads" && i + 1 < argc)
      threads = std::atoi(argv[++i]);
    else if (key == "--epochs" && i + 1 < argc)
      epochs = std::atoi(argv[++i]);
    else if (key == "--ddp")
      use_ddp = true;
  }
  int rank = 0, world = 1;
  if (use_ddp) {
    tg::distributed::init_process_group(&argc, &argv);
    rank = tg::distributed::get_rank();
    world = tg::distributed::get_world_size();
  }
  return tg::distributed::run([&] {
    tg::set_num_threads(threads);
    tg::manual_seed(0);
    tg::data::FashionMnist train =
        tg::data::read_fashion_mnist(tg::data::fashion_mnist_dir(), true);
    const tg::Tensor pixel_mean = train.images.mean();
    const tg::Tensor pixel_std = (train.images - pixel_mean).pow(2).mean().sqrt();
    train.images = (train.images - pixel_mean) / pixel_std;

    tg::nn::Sequential net(tg::nn::Linear(784, 256), tg::nn::ReLU(), tg::nn::Linear(256, 128),
                           tg::nn::ReLU(), tg::nn::Linear(128, 10));
    std::unique_ptr<tg::distributed::DistributedDataParallel> ddp;
    tg::nn::Module* trained = &net;
    if (use_ddp) {
      ddp = std::make_unique<tg::distributed::DistributedDataParallel>(net);
      trained = ddp.get();
    }
    tg::optim::Adam optimizer(net.parameters(), {.lr = 1e-3});
    const int64_t global_batch = 128;
    tg::data::DataLoader loader(tg::data::TensorDataset(train.images, train.labels),
                                {.batch_size = global_batch / world,
                                 .shuffle = true,
                                 .seed = 0,
                                 .num_replicas = world,
                                 .rank = rank});

    std::vector<double> rates;
    double total_seconds = 0, total_wait = 0;
    for (int epoch = 0; epoch < epochs; ++epoch) {
      const double wait_before = ddp ? ddp->statistics().wait_seconds : 0;
      const auto start = std::chrono::steady_clock::now();
      int64_t samples = 0;
      for (auto [x, y] : loader) {
        optimizer.zero_grad();
        tg::nn::functional::cross_entropy((*trained)(x), y).backward();
        optimizer.step();
        samples += x.size(0) * world;
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(static_cast<double>(samples) / seconds);
      total_seconds += seconds;
      total_wait += (ddp ? ddp->statistics().wait_seconds : 0) - wait_before;
    }
    std::sort(rates.begin(), rates.end());
    double wait_share = total_wait / total_seconds;
    if (use_ddp) {
      tg::Tensor share = tg::tensor({wait_share}, {1}, {.dtype = tg::f64});
      tg::distributed::all_reduce(share, tg::distributed::ReduceOp::max);
      wait_share = share.item();
    }
    if (rank == 0)
      std::printf(
          "{\"ddp\": %s, \"ranks\": %d, \"threads_per_rank\": %d, \"epochs\": %d, "
          "\"samples_per_s\": %.0f, \"max_share_waiting_in_allreduce\": %.3f}\n",
          use_ddp ? "true" : "false", world, threads, epochs, rates[rates.size() / 2], wait_share);
    if (use_ddp) tg::distributed::destroy_process_group();
    return 0;
  });
}
