// Fashion-MNIST with libtorch: the same MLP, optimizer and batches as fashion_tapegrad; s/epoch,
// test accuracy. Batches are cut by index_select from a randperm per epoch (libtorch's DataLoader
// would add its own per-sample collation cost); the gzipped IDX files are read here with zlib.
#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

std::vector<unsigned char> read_gz(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw std::runtime_error("cannot open " + path);
  std::vector<unsigned char> bytes;
  unsigned char buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  gzclose(file);
  return bytes;
}

// IDX: 4-byte magic (last byte = number of dims), big-endian dims, then the unsigned bytes.
torch::Tensor read_idx(const std::string& path) {
  std::vector<unsigned char> bytes = read_gz(path);
  int dims = bytes.at(3);
  std::vector<int64_t> shape;
  size_t offset = 4;
  for (int d = 0; d < dims; ++d, offset += 4)
    shape.push_back(int64_t(bytes[offset]) << 24 | int64_t(bytes[offset + 1]) << 16 |
                    int64_t(bytes[offset + 2]) << 8 | int64_t(bytes[offset + 3]));
  return torch::from_blob(bytes.data() + offset, shape, torch::kUInt8).clone();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, epochs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (key == "--epochs")
      epochs = std::atoi(argv[i + 1]);
  }
  at::set_num_interop_threads(threads);
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const char* env = std::getenv("TG_FASHION_MNIST_DIR");
  std::string dir = env ? env : "/usr/share/datasets/fashion-mnist";
  torch::Tensor train_x =
      read_idx(dir + "/train-images-idx3-ubyte.gz").reshape({-1, 784}).to(torch::kFloat).div_(255);
  torch::Tensor train_y = read_idx(dir + "/train-labels-idx1-ubyte.gz").to(torch::kLong);
  torch::Tensor test_x =
      read_idx(dir + "/t10k-images-idx3-ubyte.gz").reshape({-1, 784}).to(torch::kFloat).div_(255);
  torch::Tensor test_y = read_idx(dir + "/t10k-labels-idx1-ubyte.gz").to(torch::kLong);

  // Standardised pixels and a cosine-annealed lr, as fashion_tapegrad.cpp and the demo.
  const torch::Tensor pixel_mean = train_x.mean();
  const torch::Tensor pixel_std = (train_x - pixel_mean).pow(2).mean().sqrt();
  train_x = (train_x - pixel_mean) / pixel_std;
  test_x = (test_x - pixel_mean) / pixel_std;

  torch::nn::Sequential net(torch::nn::Linear(784, 256), torch::nn::ReLU(),
                            torch::nn::Linear(256, 128), torch::nn::ReLU(),
                            torch::nn::Linear(128, 10));
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  const int64_t n = train_x.size(0), batch = 128;

  std::vector<double> seconds;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    torch::Tensor order = torch::randperm(n, torch::kLong);
    for (int64_t first = 0; first < n; first += batch) {
      torch::Tensor index = order.slice(0, first, std::min(first + batch, n));
      torch::Tensor x = train_x.index_select(0, index), y = train_y.index_select(0, index);
      optimizer.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();
      optimizer.step();
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    // CosineAnnealingLR with T_max = epochs, eta_min = 0, stepped once per epoch.
    for (auto& group : optimizer.param_groups())
      static_cast<torch::optim::AdamOptions&>(group.options())
          .lr(0.5 * 1e-3 * (1 + std::cos(M_PI * (epoch + 1) / epochs)));
  }
  double accuracy;
  {
    torch::NoGradGuard no_grad;
    accuracy =
        net->forward(test_x).argmax(1).eq(test_y).sum().item<double>() / double(test_y.size(0));
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf(
      "{\"impl\": \"libtorch\", \"threads\": %d, \"epochs\": %d, \"s_per_epoch\": %.3f, "
      "\"test_accuracy\": %.4f, \"peak_rss_kb\": %ld}\n",
      threads, epochs, seconds[seconds.size() / 2], accuracy, bench::peak_rss_kb());
  return 0;
}
