// The OpenMP side of parallel_for, and the pool's thread count; the one file with OpenMP pragmas.
#include "parallel.hpp"

#include <algorithm>
#include <atomic>

#include "blas.hpp"

#ifdef TG_HAVE_OPENMP
#include <omp.h>
#endif

namespace tg::detail {
namespace {

// A second pool beside OpenBLAS's pthread pool made training 1.5–6× slower on 2 cores (the
// two spin against each other), so the kernels go parallel only when OpenBLAS runs on
// OpenMP too: then its products and these loops share libgomp's one team of threads.
bool pool_available() {
#ifdef TG_HAVE_OPENMP
  static const bool available = blas_runs_on_openmp();
  return available;
#else
  return false;
#endif
}

std::atomic<int>& pool_threads() {
  static std::atomic<int> threads{pool_available() ? blas_threads() : 1};
  return threads;
}

}  // namespace

int parallel_threads() { return pool_threads().load(std::memory_order_relaxed); }

void set_parallel_threads(int n) {
  pool_threads().store(pool_available() ? std::max(n, 1) : 1, std::memory_order_relaxed);
#ifdef TG_HAVE_OPENMP
  // OpenMP's count is per thread (it is an ICV of the caller), so run_parallel also passes the
  // count explicitly: a thread that never called set_num_threads gets the same team size.
  omp_set_num_threads(std::max(n, 1));
#endif
}

void run_parallel(int64_t count, [[maybe_unused]] int64_t grain, void* context,
                  void (*body)(void* context, int64_t begin, int64_t end)) {
#ifdef TG_HAVE_OPENMP
  const int64_t most = std::min<int64_t>(parallel_threads(), count / std::max<int64_t>(grain, 1));
  // Inside someone else's parallel region (a user's, or OpenBLAS's) the loop stays on its
  // thread: nesting would oversubscribe the cores.
  if (most > 1 && !omp_in_parallel()) {
    const int team_size = static_cast<int>(most);
#pragma omp parallel num_threads(team_size)
    {
      const int64_t team = omp_get_num_threads();
      const int64_t rank = omp_get_thread_num();
      // Chunks are whole multiples of 64 elements: every chunk but the last is a whole number
      // of vectors, and neighbouring threads share at most one cache line of output.
      const int64_t chunk = ((count + team - 1) / team + 63) / 64 * 64;
      const int64_t begin = std::min(count, rank * chunk);
      const int64_t end = std::min(count, begin + chunk);
      if (begin < end) body(context, begin, end);
    }
    return;
  }
#endif
  body(context, 0, count);
}

}  // namespace tg::detail
