// GEMM and thread control on OpenBLAS; the one file that includes <cblas.h>.
#include "blas.hpp"

#include <cblas.h>

#include <algorithm>

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
  // BLAS reads y even when beta is 0, and `c` may be uninitialised (NaN bit patterns).
  if (beta == T(0)) std::fill(c, c + m * n, T(0));
  if (n == 1) {  // c = op(A) b, with A stored m×k, or k×m when transposed
    blas_gemv(CblasRowMajor, flag(ta), as_blas(ta ? k : m), as_blas(ta ? m : k), alpha, a,
              as_blas(ta ? m : k), b, 1, beta, c, 1);
  } else {  // cᵀ = op(B)ᵀ aᵀ, with B stored k×n, or n×k when transposed
    blas_gemv(CblasRowMajor, flag(!tb), as_blas(tb ? n : k), as_blas(tb ? k : n), alpha, b,
              as_blas(tb ? k : n), a, 1, beta, c, 1);
  }
}
}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(m * n, beta, c);
  if (n == 1 || m == 1) return gemv(ta, tb, m, n, k, alpha, a, b, beta, c, cblas_sgemv);
  cblas_sgemm(CblasRowMajor, flag(ta), flag(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(ta ? m : k), b, as_blas(tb ? k : n), beta, c, as_blas(n));
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  const double* b, double beta, double* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(m * n, beta, c);
  if (n == 1 || m == 1) return gemv(ta, tb, m, n, k, alpha, a, b, beta, c, cblas_dgemv);
  cblas_dgemm(CblasRowMajor, flag(ta), flag(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(ta ? m : k), b, as_blas(tb ? k : n), beta, c, as_blas(n));
}

void set_blas_threads(int n) { openblas_set_num_threads(n); }
int blas_threads() { return openblas_get_num_threads(); }

}  // namespace tg::detail

namespace tg {
void set_num_threads(int n) { detail::set_blas_threads(n < 1 ? 1 : n); }
int get_num_threads() { return detail::blas_threads(); }
}  // namespace tg
