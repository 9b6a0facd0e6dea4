// detail::parallel_for: elementwise loops split across OpenMP's one team, which OpenBLAS shares.
#pragma once

#include <cstdint>
#include <type_traits>

namespace tg::detail {

/// The threads parallel_for splits work across: tg::set_num_threads's count when tapegrad is
/// built with OpenMP and OpenBLAS runs its threads on the same OpenMP runtime, else 1.
int parallel_threads();

/// Records the count tg::set_num_threads set (and tells OpenMP, for this thread's regions).
void set_parallel_threads(int n);

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

/// Minimum elements per thread, measured on 2 cores (see parallel.cpp for the figures).
/// A cheap op (+, ×, compare, copy) must have this many per thread before splitting pays.
inline constexpr int64_t kGrainCheap = int64_t{1} << 15;
/// An op of a few dozen instructions per element (exp, tanh, sqrt, division, an optimizer step).
inline constexpr int64_t kGrainCostly = int64_t{1} << 12;

}  // namespace tg::detail
