// The only door to OpenBLAS: GEMM for f32/f64 and the thread count.
#pragma once

#include <cstdint>

namespace tg::detail {

/// C = alpha * op(A) op(B) + beta * C, row-major; op(X) = X or Xᵀ; op(A) is m×k, op(B) is k×n.
template <class T>
void gemm(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          const T* b, T beta, T* c);

/// Sets the most threads one product may use.
void set_blas_threads(int n);
/// The most threads one product may use.
int blas_threads();
/// True when the OpenBLAS loaded at run time is its OpenMP build (Debian's libopenblas0-openmp),
/// whose threads are libgomp's team.
bool blas_runs_on_openmp();

}  // namespace tg::detail
