// Fashion-MNIST with tapegrad: MLP 784-256-128-10, Adam 1e-3 annealed by cosine, batch 128,
// standardised pixels (the recipe of examples/fashion_mnist_mlp, and of fashion_libtorch.cpp);
// seconds per epoch and test accuracy.
// Usage: fashion_tapegrad --threads N --epochs E   (prints one JSON line)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"
#include "tapegrad.hpp"

int main(int argc, char** argv) {
  int threads = 1, epochs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (key == "--epochs")
      epochs = std::atoi(argv[i + 1]);
  }
  tg::set_num_threads(threads);
  tg::manual_seed(0);
  tg::data::FashionMnist train = tg::data::read_fashion_mnist(tg::data::fashion_mnist_dir(), true);
  tg::data::FashionMnist test = tg::data::read_fashion_mnist(tg::data::fashion_mnist_dir(), false);

  // In place, so the 188 MB of training images exist once.
  const tg::data::ElementMoments pixels = tg::data::element_moments(train.images);
  tg::data::standardize_(train.images, pixels.mean, pixels.std);
  tg::data::standardize_(test.images, pixels.mean, pixels.std);

  tg::nn::Sequential net(tg::nn::Linear(784, 256), tg::nn::ReLU(), tg::nn::Linear(256, 128),
                         tg::nn::ReLU(), tg::nn::Linear(128, 10));
  tg::optim::Adam optimizer(net.parameters(), {.lr = 1e-3});
  tg::optim::CosineAnnealingLR scheduler(optimizer, {.T_max = epochs});
  tg::data::DataLoader loader(tg::data::TensorDataset(train.images, train.labels),
                              {.batch_size = 128, .shuffle = true, .seed = 0});

  std::vector<double> seconds;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    auto start = std::chrono::steady_clock::now();
    for (auto [x, y] : loader) {
      optimizer.zero_grad();
      tg::nn::functional::cross_entropy(net(x), y).backward();
      optimizer.step();
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    scheduler.step();
  }
  double accuracy;
  {
    tg::NoGradGuard no_grad;
    accuracy =
        tg::eq(net(test.images).argmax(1), test.labels).sum().item() / double(test.labels.numel());
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf(
      "{\"impl\": \"tapegrad\", \"threads\": %d, \"epochs\": %d, \"s_per_epoch\": %.3f, "
      "\"test_accuracy\": %.4f, \"peak_rss_kb\": %ld}\n",
      threads, epochs, seconds[seconds.size() / 2], accuracy, bench::peak_rss_kb());
  return 0;
}
