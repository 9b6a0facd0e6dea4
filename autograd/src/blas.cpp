// Matrix products and thread control on OpenBLAS; the one file that includes <cblas.h>.
#include "blas.hpp"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <string>

#include "parallel.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {
namespace {
CBLAS_TRANSPOSE flag(bool transpose) { return transpose ? CblasTrans : CblasNoTrans; }
blasint as_blas(int64_t n) { return static_cast<blasint>(n); }

// An empty inner dimension leaves beta * C, which BLAS would reject for its zero strides.
template <class T>
void scale(int64_t count, T beta, T* c) {
  for (int64_t i = 0; i < count; ++i) c[i] = beta == T(0) ? T(0) : beta * c[i];
}

// A product with one row or one column of output is a matrix-vector product. OpenBLAS's GEMM
// packs its operands even then, which made the 784→1 layer of logistic regression 4× slower
// than GEMV (7.2 µs against 1.6 µs per product at batch 64). Both vectors here have unit
// stride: a 1×k or k×1 operand is contiguous whichever way it is stored.
template <class T, class Gemv>
void gemv(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b,
          T beta, T* c, Gemv blas_gemv) {
  // `c` may be uninitialised, and some OpenBLAS releases scale y by beta = 0 as a multiply,
  // which would keep a NaN bit pattern; so beta = 0 zeroes it here, and then adds into the
  // zeros (beta = 1), which spares OpenBLAS a second pass scaling y.
  if (beta == T(0)) {
    std::fill(c, c + m * n, T(0));
    beta = T(1);
  }
  if (n == 1) {  // c = op(A) b, with A stored m×k, or k×m when transposed
    blas_gemv(CblasRowMajor, flag(ta), as_blas(ta ? k : m), as_blas(ta ? m : k), alpha, a,
              as_blas(ta ? m : k), b, 1, beta, c, 1);
  } else {  // cᵀ = op(B)ᵀ aᵀ, with B stored k×n, or n×k when transposed
    blas_gemv(CblasRowMajor, flag(!tb), as_blas(tb ? n : k), as_blas(tb ? k : n), alpha, b,
              as_blas(tb ? k : n), a, 1, beta, c, 1);
  }
}

// The thread count set through tg::set_num_threads: the most that one product may use.
std::atomic<int>& max_threads() {
  static std::atomic<int> threads{openblas_get_num_threads()};
  return threads;
}

// OpenBLAS 0.3.21 splits every product above 2^18 multiply-adds across its threads. On two
// cores that made products under about 2^22 slower, often twice as slow (64×784 · 784×10:
// 15 µs on one thread, 36 µs on two; 128×256×784: 419 µs against 271 µs), so those run on one
// thread. Only OpenBLAS's global count can say so; every caller sets it back to max_threads(),
// so concurrent callers can only cost each other speed, never change a result (OpenBLAS splits
// rows and columns, not the inner sum). Measured again on OpenBLAS's OpenMP build (best of
// 10+ runs, 1 thread / 2, on a machine loaded by other work, so only each row's ratio counts):
// 64×784·784×10 (2^18.9) 56 / 69 µs; 64×784·784×128 (2^22.6) 462 / 408 µs; 128×256×784
// (2^24.6) 1,867 / 1,548 µs; 256×1024×1024 (2^28) 19.8 / 13.9 ms: 2^22 still divides them.
class ThreadsForProduct {
 public:
  explicit ThreadsForProduct(int64_t m, int64_t n, int64_t k)
      : single_(max_threads().load(std::memory_order_relaxed) > 1 &&
                static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
                    kParallelFrom) {
    if (single_) openblas_set_num_threads(1);
  }
  ~ThreadsForProduct() {
    if (single_) openblas_set_num_threads(max_threads().load(std::memory_order_relaxed));
  }
  ThreadsForProduct(const ThreadsForProduct&) = delete;
  ThreadsForProduct& operator=(const ThreadsForProduct&) = delete;

 private:
  static constexpr double kParallelFrom = 1 << 22;
  bool single_;
};

template <class T>
struct Blas;
template <>
struct Blas<float> {
  static constexpr auto gemm = cblas_sgemm;
  static constexpr auto gemv = cblas_sgemv;
};
template <>
struct Blas<double> {
  static constexpr auto gemm = cblas_dgemm;
  static constexpr auto gemv = cblas_dgemv;
};

}  // namespace

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b,
          T beta, T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(m * n, beta, c);
  const ThreadsForProduct threads(m, n, k);
  if (n == 1 || m == 1) return gemv(ta, tb, m, n, k, alpha, a, b, beta, c, Blas<T>::gemv);
  Blas<T>::gemm(CblasRowMajor, flag(ta), flag(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
                as_blas(ta ? m : k), b, as_blas(tb ? k : n), beta, c, as_blas(n));
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, const float*,
                          float, float*);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*,
                           const double*, double, double*);

void set_blas_threads(int n) {
  max_threads().store(n, std::memory_order_relaxed);
  openblas_set_num_threads(n);
}
int blas_threads() { return max_threads().load(std::memory_order_relaxed); }

// openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP. Asked of the library that is
// loaded, not the header compiled against: on Debian update-alternatives picks the variant.
bool blas_runs_on_openmp() { return openblas_get_parallel() == 2; }

}  // namespace tg::detail

namespace tg {
void set_num_threads(int n) {
  // PyTorch refuses a count below 1 too; quietly running on one thread would hide the slip.
  if (n < 1)
    throw Error("set_num_threads: the thread count must be >= 1, got " + std::to_string(n));
  detail::set_blas_threads(n);
  detail::set_parallel_threads(n);
}
int get_num_threads() { return detail::blas_threads(); }
}  // namespace tg
