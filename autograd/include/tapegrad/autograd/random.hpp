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
}  // namespace random

}  // namespace tg
