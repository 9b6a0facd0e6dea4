// read_fashion_mnist: the installed files load with the known shapes, labels and pixels.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using tg::testing::contains;
using tg::testing::error_message;

TEST_CASE("fashion_mnist_dir honours TG_FASHION_MNIST_DIR") {
  const char* saved = std::getenv("TG_FASHION_MNIST_DIR");
  const std::string previous = saved != nullptr ? saved : "";
  setenv("TG_FASHION_MNIST_DIR", "/somewhere/else", 1);
  CHECK(tg::data::fashion_mnist_dir() == "/somewhere/else");
  unsetenv("TG_FASHION_MNIST_DIR");
  CHECK(tg::data::fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
  if (saved != nullptr) setenv("TG_FASHION_MNIST_DIR", previous.c_str(), 1);
}

TEST_CASE("read_fashion_mnist says how to get missing files") {
  const tg::testing::TempDir dir;
  const std::string message =
      error_message([&] { tg::data::read_fashion_mnist(dir.path.string(), false); });
  CHECK(contains(message, "t10k-images-idx3-ubyte.gz"));
  CHECK(contains(message, dir.path.string()));
  CHECK(contains(message, "dataset-fashion-mnist"));
}

TEST_CASE("read_fashion_mnist checks the files hold 28x28 images") {
  const tg::testing::TempDir dir;
  // A well-formed IDX of shape [1, 2, 2] where images belong, and one label.
  tg::testing::write_gzip(dir.file("t10k-images-idx3-ubyte.gz"),
                          {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4});
  tg::testing::write_file(dir.file("t10k-labels-idx1-ubyte"), {0, 0, 8, 1, 0, 0, 0, 1, 3});
  CHECK(contains(error_message([&] { tg::data::read_fashion_mnist(dir.path.string(), false); }),
                 "holds shape [1, 2, 2], expected [n, 28, 28]"));
}

TEST_CASE("read_fashion_mnist loads the installed test split") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("dataset-fashion-mnist is not installed; install it with scripts/setup");
    return;
  }
  const tg::data::FashionMnist test = tg::data::read_fashion_mnist(dir, false);
  CHECK(test.images.dtype() == tg::f32);
  CHECK(test.images.shape() == tg::Shape{10000, 784});
  CHECK(test.labels.dtype() == tg::i64);
  CHECK(test.labels.shape() == tg::Shape{10000});
  // The first labels of t10k: ankle boot, pullover, trouser, trouser, shirt.
  const std::vector<double> labels = test.labels.to_vector();
  CHECK(std::vector<double>(labels.begin(), labels.begin() + 5) ==
        std::vector<double>{9, 2, 1, 1, 6});
  CHECK(std::string(tg::data::kFashionMnistClasses[9]) == "Ankle boot");
  // 1000 of each class.
  std::vector<int> counts(10, 0);
  for (const double label : labels) ++counts[static_cast<size_t>(label)];
  CHECK(counts == std::vector<int>(10, 1000));
  // Image 0's bytes sum to 33456 and its pixel (14, 14) is 110, so /255 gives these:
  const float* pixels = test.images.data<float>();
  double sum = 0;
  for (int i = 0; i < 784; ++i) sum += pixels[i];
  CHECK(sum == doctest::Approx(33456.0 / 255.0).epsilon(1e-6));
  CHECK(pixels[14 * 28 + 14] == 110.0f / 255.0f);
  CHECK(test.images.max().item() == 1.0);
}

TEST_CASE("read_fashion_mnist with max_samples reads the split's first samples") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  CHECK(contains(error_message([&] { tg::data::read_fashion_mnist(dir, false, -3); }),
                 "read_fashion_mnist: max_samples must be >= 0, got -3"));
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    MESSAGE("dataset-fashion-mnist is not installed; install it with scripts/setup");
    return;
  }
  const tg::data::FashionMnist whole = tg::data::read_fashion_mnist(dir, false);
  const tg::data::FashionMnist first = tg::data::read_fashion_mnist(dir, false, 300);
  CHECK(first.images.shape() == tg::Shape{300, 784});
  CHECK(first.labels.shape() == tg::Shape{300});
  CHECK(first.images.to_vector() == tg::narrow(whole.images, 0, 0, 300).to_vector());
  CHECK(first.labels.to_vector() == tg::narrow(whole.labels, 0, 0, 300).to_vector());
  CHECK(tg::data::read_fashion_mnist(dir, false, 20000).labels.shape() == tg::Shape{10000});
}
