// The global random generator that tg::manual_seed seeds (for rand*, init, shuffle, dropout).
#pragma once

#include <cstdint>

namespace tg {

/// Seeds the global generator.
void manual_seed(uint64_t seed);

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
