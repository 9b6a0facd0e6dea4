// Private helpers of tg::data: a seedable shuffle generator and raw row copies between tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data::detail {

/// SplitMix64: a small, fast generator whose streams for different seeds are independent enough
/// for shuffling; private so that loaders and splits do not disturb the global generator.
class Generator {
 public:
  explicit Generator(uint64_t seed) : state_(seed) {}
  /// A generator for one (seed, stream) pair, e.g. (loader seed, epoch).
  Generator(uint64_t seed, uint64_t stream) : state_(mix(seed) ^ mix(stream + kGolden)) {}

  uint64_t next() {
    state_ += kGolden;
    return mix(state_);
  }
  /// Uniform in [0, n), n >= 1, without modulo bias (rejects the short top range).
  uint64_t below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const uint64_t r = next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  static constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

/// 0, ..., n-1 in a uniformly random order (Fisher-Yates).
std::vector<int64_t> permutation(int64_t n, Generator& generator);

/// Start of a tensor's storage as bytes, whatever its dtype.
const std::byte* bytes_of(const Tensor& t);
std::byte* bytes_of(Tensor& t);

/// A new tensor holding source's first-dimension rows `rows` (each 0 <= row < source.size(0)),
/// copying each run of consecutive rows with one memcpy.
Tensor gather_rows(const Tensor& source, std::span<const int64_t> rows);

}  // namespace tg::data::detail
