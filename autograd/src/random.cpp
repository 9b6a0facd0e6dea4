// The global generator: xoshiro256** seeded through splitmix64, identical on every platform.
#include "tapegrad/autograd/random.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <numbers>

#include "tapegrad/autograd/error.hpp"

namespace tg {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Generator {
  uint64_t s[4];
  explicit Generator(uint64_t seed) { reseed(seed); }
  void reseed(uint64_t seed) {
    for (uint64_t& word : s) word = splitmix64(seed);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

constexpr uint64_t kDefaultSeed = 42;

Generator& generator() {
  static Generator instance(kDefaultSeed);
  return instance;
}

// One generator for the whole process, as in PyTorch, so threads that draw at once (a
// DataLoader shuffling while another thread builds a model) must take turns. A lock per draw
// would cost ~10 ns, 3x a uniform draw itself, so bulk fills hold a GeneratorLock instead.
std::mutex& generator_mutex() {
  static std::mutex mutex;
  return mutex;
}
thread_local bool holding_generator = false;

}  // namespace

void manual_seed(uint64_t seed) {
  random::GeneratorLock lock;
  generator().reseed(seed);
}

Tensor get_rng_state() {
  Tensor state = zeros({4}, {.dtype = DType::i64});
  random::GeneratorLock lock;
  std::memcpy(state.data<int64_t>(), generator().s, sizeof generator().s);
  return state;
}

void set_rng_state(const Tensor& state) {
  if (!state.defined()) throw Error("tg::set_rng_state: the state is an undefined tensor");
  if (state.dtype() != DType::i64 || state.shape() != Shape{4})
    throw Error(
        fmt::format("tg::set_rng_state: the state must be an i64 tensor of shape [4] (from "
                    "tg::get_rng_state), got {} {}",
                    dtype_name(state.dtype()), format_shape(state.shape())));
  uint64_t words[4];
  std::memcpy(words, state.data<int64_t>(), sizeof words);
  if ((words[0] | words[1] | words[2] | words[3]) == 0)
    throw Error(
        "tg::set_rng_state: the all-zero state is not a state of the generator (it would draw "
        "only zeros)");
  random::GeneratorLock lock;
  std::memcpy(generator().s, words, sizeof words);
}

namespace random {

GeneratorLock::GeneratorLock() : owns_(!holding_generator) {
  if (!owns_) return;
  generator_mutex().lock();
  holding_generator = true;
}

GeneratorLock::~GeneratorLock() {
  if (!owns_) return;
  holding_generator = false;
  generator_mutex().unlock();
}

uint64_t next_bits() {
  if (holding_generator) return generator().next();
  GeneratorLock lock;
  return generator().next();
}

double uniform() { return static_cast<double>(next_bits() >> 11) * 0x1.0p-53; }

double normal() {
  // Box-Muller; 1 - u keeps the logarithm's argument in (0, 1].
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t below(uint64_t n) {
  if (n == 0) return 0;
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;  // reject the biased tail
  uint64_t x;
  do x = next_bits();
  while (x >= limit);
  return x % n;
}

}  // namespace random
}  // namespace tg
