// read_fashion_mnist: locating and loading the Fashion-MNIST IDX files.
#include "tapegrad/data/fashion_mnist.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/data/idx.hpp"

namespace tg::data {
namespace {

// `dir`/`name`.gz if present, else `dir`/`name` if present, else a tg::Error saying what to do.
std::string find_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path base(dir);
  for (const std::string& candidate : {name + ".gz", name}) {
    std::error_code error;
    if (std::filesystem::is_regular_file(base / candidate, error))
      return (base / candidate).string();
  }
  throw Error(
      fmt::format("read_fashion_mnist: no {0}.gz or {0} in '{1}'; install the Debian "
                  "package dataset-fashion-mnist (scripts/setup) or set "
                  "TG_FASHION_MNIST_DIR to a directory holding the files",
                  name, dir));
}

// The split, or its first `max_samples` samples.
FashionMnist read_split(const std::string& dir, bool train, std::optional<int64_t> max_samples) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string images_path = find_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_file(dir, prefix + "-labels-idx1-ubyte");
  Tensor images = max_samples ? read_idx(images_path, DType::f32, *max_samples)
                              : read_idx(images_path, DType::f32);
  Tensor labels =
      max_samples ? read_idx(labels_path, DType::i64, *max_samples) : read_idx(labels_path);
  const Shape& shape = images.shape();
  if (shape.size() != 3 || shape[1] != 28 || shape[2] != 28)
    throw Error(fmt::format("read_fashion_mnist: {} holds shape {}, expected [n, 28, 28]",
                            images_path, format_shape(shape)));
  if (labels.dim() != 1 || labels.shape()[0] != shape[0])
    throw Error(fmt::format("read_fashion_mnist: {} holds shape {}, expected [{}] to match {}",
                            labels_path, format_shape(labels.shape()), shape[0], images_path));
  const int64_t* label = labels.data<int64_t>();
  for (int64_t i = 0, end = labels.numel(); i < end; ++i)
    if (label[i] < 0 || label[i] > 9)
      throw Error(fmt::format("read_fashion_mnist: {}: label {} of sample {} is not in 0..9",
                              labels_path, label[i], i));
  float* pixel = images.data<float>();
  for (int64_t i = 0, end = images.numel(); i < end; ++i) pixel[i] /= 255.0f;
  return {images.reshape({shape[0], 28 * 28}), labels};
}

}  // namespace

std::string fashion_mnist_dir() {
  if (const char* dir = std::getenv("TG_FASHION_MNIST_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  return "/usr/share/datasets/fashion-mnist";
}

FashionMnist read_fashion_mnist(const std::string& dir, bool train) {
  return read_split(dir, train, std::nullopt);
}

FashionMnist read_fashion_mnist(const std::string& dir, bool train, int64_t max_samples) {
  if (max_samples < 0)
    throw Error(fmt::format("read_fashion_mnist: max_samples must be >= 0, got {}", max_samples));
  return read_split(dir, train, max_samples);
}

}  // namespace tg::data
