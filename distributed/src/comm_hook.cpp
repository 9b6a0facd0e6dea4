// Communication hooks: the built-in f16 compression and the MPI sum of IEEE halves it travels by.
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <cstdint>
#include <cstring>
#include <memory>

#include "communicator.hpp"
#include "tapegrad/distributed/ddp.hpp"

namespace tg::distributed {
namespace {

// Halves on the wire are raw 16-bit IEEE binary16 patterns, rounded to nearest (ties to even).
// Scalar conversions go through _Float16 (software in libgcc on x86-64, about 10 ns each);
// where the CPU has F16C, eight at a time in hardware.
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

#if defined(__x86_64__)
#define TG_F16C_TARGET __attribute__((target("avx,f16c")))
const bool have_f16c = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");

TG_F16C_TARGET void encode_f16c(const float* in, float scale, uint16_t* out, int64_t n) {
  const __m256 factor = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(out + i),
        _mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(in + i), factor), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) out[i] = to_half(in[i] * scale);
}

TG_F16C_TARGET void decode_f16c(const uint16_t* in, float scale, float* out, int64_t n) {
  const __m256 factor = _mm256_set1_ps(scale);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(
        out + i,
        _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))),
                      factor));
  for (; i < n; ++i) out[i] = from_half(in[i]) * scale;
}

TG_F16C_TARGET void add_f16c(const uint16_t* a, uint16_t* b, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256 y = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(b + i),
                     _mm256_cvtps_ph(_mm256_add_ps(x, y), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) b[i] = to_half(from_half(a[i]) + from_half(b[i]));
}
#else
const bool have_f16c = false;
void encode_f16c(const float*, float, uint16_t*, int64_t) {}
void decode_f16c(const uint16_t*, float, float*, int64_t) {}
void add_f16c(const uint16_t*, uint16_t*, int64_t) {}
#endif

// MPI_Op body: inout[i] = half(float(in[i]) + float(inout[i])), one rounding per addition.
void sum_halves(void* in, void* inout, int* length, MPI_Datatype*) {
  const auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  if (have_f16c) return add_f16c(a, b, *length);
  for (int i = 0; i < *length; ++i) b[i] = to_half(from_half(a[i]) + from_half(b[i]));
}

class Fp16CompressHook final : public CommHook {
 public:
  WireType wire_type(const GradBucket&) const override { return WireType::f16; }

  void encode(const GradBucket& bucket, void* wire) const override {
    auto* out = static_cast<uint16_t*>(wire);
    // Divided first, as PyTorch's hook does, so the sum over the ranks stays in half's range.
    if (bucket.dtype == DType::f32 && have_f16c)
      return encode_f16c(static_cast<const float*>(bucket.values),
                         1.0F / static_cast<float>(bucket.world), out, bucket.numel);
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
    if (bucket.dtype == DType::f32 && have_f16c)
      return decode_f16c(in, static_cast<float>(bucket.world), static_cast<float*>(bucket.values),
                         bucket.numel);
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
