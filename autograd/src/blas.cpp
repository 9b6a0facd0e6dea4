// GEMM and thread control on OpenBLAS; the one file that includes <cblas.h>.
#include "blas.hpp"

#include <cblas.h>

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
}  // namespace

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(m * n, beta, c);
  cblas_sgemm(CblasRowMajor, flag(ta), flag(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(ta ? m : k), b, as_blas(tb ? k : n), beta, c, as_blas(n));
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  const double* b, double beta, double* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) return scale(m * n, beta, c);
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
