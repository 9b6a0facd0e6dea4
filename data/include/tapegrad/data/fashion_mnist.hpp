// tg::data::read_fashion_mnist: the Fashion-MNIST images and labels from the installed IDX files.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data {

/// The ten Fashion-MNIST classes, indexed by label.
inline constexpr std::array<const char*, 10> kFashionMnistClasses = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// Images and labels of one Fashion-MNIST split.
struct FashionMnist {
  Tensor images;  ///< f32 [n, 784], pixel / 255 in [0, 1]
  Tensor labels;  ///< i64 [n], in 0..9
};

/// The directory of the Fashion-MNIST files: $TG_FASHION_MNIST_DIR if set, otherwise where
/// Debian's dataset-fashion-mnist package puts them (/usr/share/datasets/fashion-mnist).
std::string fashion_mnist_dir();

/// Reads the training split (60000 samples) or the test split (10000) from `dir`, which holds
/// {train,t10k}-{images-idx3,labels-idx1}-ubyte, gzipped (.gz) or not. Throws tg::Error if a
/// file is missing (saying how to install it) or does not hold 28x28 images with labels 0..9.
FashionMnist read_fashion_mnist(const std::string& dir = fashion_mnist_dir(), bool train = true);
/// The first `max_samples` samples of the split (all of them when it holds fewer), reading only
/// those from the files (read_idx's prefix read). The files are shuffled, so a prefix holds
/// about as many samples of each class as the whole. Throws tg::Error for a negative count.
FashionMnist read_fashion_mnist(const std::string& dir, bool train, int64_t max_samples);

}  // namespace tg::data
