// Softmax regression on Fashion-MNIST: one Linear(784, 10) layer trained with cross-entropy, and
// a check that the gradient of cross-entropy with respect to the logits is p − y.
//
//   softmax_regression                               5 epochs of SGD, lr 0.2 (cosine), batch 64
//   softmax_regression --epochs 3 --train-subset 6000   a short run
//   softmax_regression --optimizer adam --lr 3e-3       Adam instead
//   softmax_regression --help                           every flag
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <tapegrad.hpp>
#include <vector>

#include "progress_bar.hpp"

namespace {

namespace fs = std::filesystem;

// True if `dir` holds the four Fashion-MNIST files, gzipped or not.
bool fashion_mnist_present(const fs::path& dir) {
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    if (!fs::exists(dir / (std::string(name) + ".gz")) && !fs::exists(dir / name)) return false;
  }
  return true;
}

// The first `n` samples of a split (all of them for n <= 0); only those are read from the files.
tg::data::FashionMnist read_split(const std::string& dir, bool train, int64_t n) {
  return n > 0 ? tg::data::read_fashion_mnist(dir, train, n)
               : tg::data::read_fashion_mnist(dir, train);
}

// Row i is e_{labels[i]}: labels i64 [N] → f32 [N, classes].
tg::Tensor one_hot(const tg::Tensor& labels, int64_t classes) {
  return tg::eq(labels.unsqueeze(1), tg::arange(classes)).to(tg::f32);
}

void print_row(const char* name, const tg::Tensor& row) {
  fmt::print("  {:<16}", name);
  for (double v : row.to_vector()) fmt::print("{:>8.4f}", v);
  fmt::print("\n");
}

// For L = Σ_i −log softmax(z_i)[y_i], dL/dz_i = softmax(z_i) − onehot(y_i): the softmax's
// Jacobian and the log's 1/p cancel. The logits become a leaf of their own (detached, requiring
// grad), so backward stops there and z.grad() is exactly dL/dz.
void show_gradient_is_p_minus_y(tg::nn::Module& model, const tg::data::FashionMnist& data) {
  constexpr int64_t kSamples = 8;
  const tg::Tensor x = tg::narrow(data.images, 0, 0, kSamples);
  const tg::Tensor y = tg::narrow(data.labels, 0, 0, kSamples);

  tg::Tensor z = model(x).detach().set_requires_grad();
  tg::F::cross_entropy(z, y, tg::F::Reduction::sum).backward();

  // p − y computed on its own, in f64, so the difference shows only the f32 rounding of dL/dz.
  const tg::Tensor p = tg::softmax(z.detach().to(tg::f64), 1);
  const tg::Tensor expected = p - one_hot(y, 10).to(tg::f64);
  const double max_error = (z.grad().to(tg::f64) - expected).abs().max().item();

  const auto label = static_cast<size_t>(y.to_vector()[0]);
  fmt::print("Part 1. The gradient of cross-entropy with respect to the logits is p − y\n");
  fmt::print("z = model(x) for {} training images, L = cross_entropy(z, y, Reduction::sum)\n",
             kSamples);
  fmt::print("image 0 (label {}, {}):\n", label, tg::data::kFashionMnistClasses[label]);
  fmt::print("  {:<16}", "class");
  for (int c = 0; c < 10; ++c) fmt::print("{:>8}", c);
  fmt::print("\n");
  print_row("p = softmax(z)", tg::narrow(p, 0, 0, 1));
  print_row("y = onehot", tg::narrow(one_hot(y, 10), 0, 0, 1));
  print_row("dL/dz", tg::narrow(z.grad(), 0, 0, 1));
  fmt::print("max |dL/dz − (softmax(z) − onehot(y))| = {:.2e} over all {}×10 logits\n\n", max_error,
             kSamples);
}

double accuracy(tg::nn::Module& model, const tg::data::FashionMnist& split) {
  tg::NoGradGuard no_grad;
  model.eval();
  const tg::Tensor logits = model(split.images);
  model.train();
  return tg::eq(logits.argmax(1), split.labels).sum().item() /
         static_cast<double>(split.labels.size(0));
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 5;
  int64_t batch_size = 64;
  std::string optimizer_name = "sgd";
  double lr = 0;
  uint64_t seed = 42;
  std::string data_dir = tg::data::fashion_mnist_dir();
  int64_t train_subset = 0;
  int64_t test_subset = 0;

  CLI::App app{"Softmax regression (Linear 784→10 + cross-entropy) on Fashion-MNIST."};
  app.add_option("--epochs", epochs, "passes over the training set")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch_size, "samples per step")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--optimizer", optimizer_name, "sgd or adam")
      ->capture_default_str()
      ->check(CLI::IsMember({"sgd", "adam"}));
  app.add_option("--lr", lr, "learning rate (default 0.2 for sgd, 1e-3 for adam)")
      ->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "seed of the initial weights and the shuffling")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "where the IDX files are ($TG_FASHION_MNIST_DIR)")
      ->capture_default_str();
  app.add_option("--train-subset", train_subset, "train on the first N images only")
      ->check(CLI::PositiveNumber);
  app.add_option("--test-subset", test_subset, "test on the first N images only")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (lr == 0) lr = optimizer_name == "sgd" ? 0.2 : 1e-3;

  if (!fashion_mnist_present(data_dir)) {
    fmt::print(stderr,
               "softmax_regression: no Fashion-MNIST files in {}\n"
               "install dataset-fashion-mnist: sudo scripts/setup\n"
               "(or point --data-dir or TG_FASHION_MNIST_DIR at "
               "{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz)\n",
               data_dir);
    return 1;
  }

  try {
    tg::manual_seed(seed);
    const auto train = read_split(data_dir, /*train=*/true, train_subset);
    const auto test = read_split(data_dir, /*train=*/false, test_subset);

    tg::nn::Linear model(784, 10);
    show_gradient_is_p_minus_y(model, train);

    std::unique_ptr<tg::optim::Optimizer> optimizer;
    if (optimizer_name == "adam") {
      optimizer =
          std::make_unique<tg::optim::Adam>(model.parameters(), tg::optim::AdamOptions{.lr = lr});
    } else {
      optimizer =
          std::make_unique<tg::optim::SGD>(model.parameters(), tg::optim::SGDOptions{.lr = lr});
    }
    // Half a cosine from lr down to 0 over the run: the last epochs' small steps settle the
    // weights instead of leaving them wherever the last noisy batches pushed them.
    tg::optim::CosineAnnealingLR scheduler(*optimizer, {.T_max = epochs});
    tg::data::DataLoader loader(tg::data::TensorDataset(train.images, train.labels),
                                {.batch_size = batch_size, .shuffle = true, .seed = seed});

    fmt::print("Part 2. Training: {} training images, {} test images; {} lr {:g}, batch {}\n",
               train.labels.size(0), test.labels.size(0), optimizer_name, lr, batch_size);
    double test_accuracy = accuracy(model, test);
    fmt::print("before training: test accuracy {:.4f}\n", test_accuracy);
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      ProgressBar bar(fmt::format("epoch {}/{}", epoch, epochs), loader.size());
      for (auto [x, y] : loader) {
        tg::Tensor loss = tg::F::cross_entropy(model(x), y);
        optimizer->zero_grad();
        loss.backward();
        optimizer->step();
        bar.step(x.size(0), loss.item());
      }
      const double seconds = bar.finish();
      scheduler.step();
      test_accuracy = accuracy(model, test);
      fmt::print("epoch {}/{}  train loss {:.4f}  test accuracy {:.4f}  ({:.2f} s)\n", epoch,
                 epochs, bar.running_loss(), test_accuracy, seconds);
      std::fflush(stdout);
    }
    fmt::print("final test accuracy {:.4f}\n", test_accuracy);
  } catch (const std::exception& e) {
    fmt::print(stderr, "softmax_regression: {}\n", e.what());
    return 1;
  }
  return 0;
}
