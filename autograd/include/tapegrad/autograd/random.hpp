// The global random generator that tg::manual_seed seeds (for rand*, init, shuffle, dropout).
#pragma once

#include <cstdint>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// Seeds the global generator.
void manual_seed(uint64_t seed);

/// The global generator's whole state (xoshiro256**: four 64-bit words, bit-cast into an i64
/// tensor of shape [4]); set_rng_state of it makes every later draw repeat exactly.
///
///     tg::Tensor state = tg::get_rng_state();
///     tg::Tensor a = tg::rand({3});
///     tg::set_rng_state(state);
///     tg::Tensor b = tg::rand({3});   // the same values as a
Tensor get_rng_state();
/// Restores a state from get_rng_state(). Throws tg::Error, leaving the generator as it was,
/// for an undefined tensor, a dtype other than i64, a shape other than [4], or the all-zero
/// state (from which xoshiro would draw only zeros).
void set_rng_state(const Tensor& state);

namespace random {
/// 64 uniformly random bits from the global generator.
uint64_t next_bits();
/// A uniform double in [0, 1).
double uniform();
/// A standard normal double.
double normal();
/// A uniform integer in [0, n), without modulo bias.
uint64_t below(uint64_t n);

/// The generator is shared by every thread, so each draw takes a lock. Holding a GeneratorLock
/// across a loop of draws (filling a tensor, a dropout mask) takes it once instead, and keeps
/// the loop's numbers consecutive in the stream. Re-entrant on the same thread.
class GeneratorLock {
 public:
  GeneratorLock();
  ~GeneratorLock();
  GeneratorLock(const GeneratorLock&) = delete;
  GeneratorLock& operator=(const GeneratorLock&) = delete;

 private:
  bool owns_;
};
}  // namespace random

}  // namespace tg
