// tg::detail::parallel_for: elementwise loops split across the library's threads, for code
// outside autograd (optimizers, users' own elementwise updates); no OpenMP header needed.
#pragma once

#include <cstdint>
#include <type_traits>

namespace tg::detail {

/// The threads parallel_for splits work across: tg::set_num_threads's count when tapegrad is
/// built with OpenMP and OpenBLAS runs its threads on the same OpenMP runtime, else 1.
int parallel_threads();

/// The type-erased half of parallel_for, compiled with OpenMP in parallel.cpp alone.
void run_parallel(int64_t count, int64_t grain, void* context,
                  void (*body)(void* context, int64_t begin, int64_t end));

/// Calls fn(begin, end) on disjoint ranges that together cover [0, count), each on its own
/// thread, when count is at least 2 * grain and there are threads; otherwise fn(0, count) on
/// the calling thread. Each element is computed by the same code either way, so results never
/// depend on the split: only elementwise work (or work over independent outputs) may use it.
template <class F>
void parallel_for(int64_t count, int64_t grain, F&& fn) {
  if (count <= 0) return;
  // Small loops, the common case, pay one comparison: no call, no OpenMP.
  if (count < 2 * grain || parallel_threads() < 2) {
    fn(int64_t{0}, count);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  run_parallel(
      count, grain, const_cast<void*>(static_cast<const void*>(&fn)),
      [](void* context, int64_t begin, int64_t end) { (*static_cast<Fn*>(context))(begin, end); });
}

// Minimum elements per thread: a loop splits from twice its grain. Measured on this machine's
// 2 cores with libgomp's team already running (as it is between the ops of a training step),
// f32, best of 30+ runs, 1 thread against 2 (µs):
//   x + y:         2^13 1.49 / 2.04,  2^14 2.75 / 2.92,  2^15 5.31 / 4.55,  2^16 10.7 / 7.43
//   an Adam step:  2^11 1.44 / 2.18,  2^12 2.72 / 3.05,  2^13 5.16 / 4.16,  2^14 10.1 / 6.62
//   exp:           2^10 3.57 / 3.26,  2^11 6.35 / 4.78,  2^12 13.2 / 8.70
// Starting a region costs about 1 µs, so splitting pays once each thread has a few µs of work.

/// For an op of one or two instructions per element (+, ×, a compare, a mask, SGD's step).
inline constexpr int64_t kGrainCheap = int64_t{1} << 14;
/// For an optimizer step with a square root and a division (Adam, RMSprop, Adagrad).
inline constexpr int64_t kGrainModerate = int64_t{1} << 12;
/// For a call into libm per element (exp, log, tanh, sin, pow).
inline constexpr int64_t kGrainCostly = int64_t{1} << 10;

}  // namespace tg::detail
