// Communication hooks: the built-in f16 compression and the MPI sum of IEEE halves it travels by.
#include <cstdint>
#include <cstring>
#include <memory>

#include "communicator.hpp"
#include "tapegrad/distributed/ddp.hpp"

namespace tg::distributed {
namespace {

// Halves on the wire are raw 16-bit IEEE binary16 patterns; _Float16 does the rounding
// (to nearest, ties to even) and the widening.
uint16_t to_half(float value) {
  const auto half = static_cast<_Float16>(value);
  uint16_t bits = 0;
  std::memcpy(&bits, &half, sizeof bits);
  return bits;
}

float from_half(uint16_t bits) {
  _Float16 half;
  std::memcpy(&half, &bits, sizeof bits);
  return static_cast<float>(half);
}

// MPI_Op body: inout[i] = half(float(in[i]) + float(inout[i])), one rounding per addition.
void sum_halves(void* in, void* inout, int* length, MPI_Datatype*) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *length; ++i) b[i] = to_half(from_half(a[i]) + from_half(b[i]));
}

class Fp16CompressHook final : public CommHook {
 public:
  WireType wire_type(const GradBucket&) const override { return WireType::f16; }

  void encode(const GradBucket& bucket, void* wire) const override {
    auto* out = static_cast<uint16_t*>(wire);
    // Divided first, as PyTorch's hook does, so the sum over the ranks stays in half's range.
    const auto convert = [&]<class T>(const T* values) {
      const T scale = T(1) / static_cast<T>(bucket.world);
      for (int64_t i = 0; i < bucket.numel; ++i)
        out[i] = to_half(static_cast<float>(values[i] * scale));
    };
    if (bucket.dtype == DType::f64)
      convert(static_cast<const double*>(bucket.values));
    else
      convert(static_cast<const float*>(bucket.values));
  }

  void decode(const void* wire, GradBucket& bucket) const override {
    const auto* in = static_cast<const uint16_t*>(wire);
    const auto convert = [&]<class T>(T* values) {
      const auto world = static_cast<T>(bucket.world);
      for (int64_t i = 0; i < bucket.numel; ++i)
        values[i] = static_cast<T>(from_half(in[i])) * world;
    };
    if (bucket.dtype == DType::f64)
      convert(static_cast<double*>(bucket.values));
    else
      convert(static_cast<float*>(bucket.values));
  }
};

}  // namespace

std::shared_ptr<const CommHook> fp16_compress_hook() {
  static const auto hook = std::make_shared<const Fp16CompressHook>();
  return hook;
}

namespace detail {

MPI_Op half_sum() {
  static MPI_Op op = [] {
    MPI_Op created = MPI_OP_NULL;
    check(MPI_Op_create(&sum_halves, /*commute=*/1, &created), "the f16 sum operation");
    return created;
  }();
  return op;
}

}  // namespace detail
}  // namespace tg::distributed
