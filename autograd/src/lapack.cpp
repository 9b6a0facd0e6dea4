// LAPACK's Fortran entry points, declared here rather than through <lapacke.h>: OpenBLAS exports
// them, so tapegrad links OpenBLAS::OpenBLAS alone and no LAPACK header reaches a public one.
#include "lapack.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace {
using tg::detail::lapack::Int;
// gfortran passes each CHARACTER argument's length after the others; OpenBLAS's C
// implementations ignore the extra arguments, the Fortran ones read them.
using Length = std::size_t;
}  // namespace

extern "C" {
void sgetrf_(const Int* m, const Int* n, float* a, const Int* lda, Int* ipiv, Int* info);
void dgetrf_(const Int* m, const Int* n, double* a, const Int* lda, Int* ipiv, Int* info);
void sgetri_(const Int* n, float* a, const Int* lda, const Int* ipiv, float* work, const Int* lwork,
             Int* info);
void dgetri_(const Int* n, double* a, const Int* lda, const Int* ipiv, double* work,
             const Int* lwork, Int* info);
void spotrf_(const char* uplo, const Int* n, float* a, const Int* lda, Int* info, Length);
void dpotrf_(const char* uplo, const Int* n, double* a, const Int* lda, Int* info, Length);
void ssyevd_(const char* jobz, const char* uplo, const Int* n, float* a, const Int* lda, float* w,
             float* work, const Int* lwork, Int* iwork, const Int* liwork, Int* info, Length,
             Length);
void dsyevd_(const char* jobz, const char* uplo, const Int* n, double* a, const Int* lda, double* w,
             double* work, const Int* lwork, Int* iwork, const Int* liwork, Int* info, Length,
             Length);
void sgels_(const char* trans, const Int* m, const Int* n, const Int* nrhs, float* a,
            const Int* lda, float* b, const Int* ldb, float* work, const Int* lwork, Int* info,
            Length);
void dgels_(const char* trans, const Int* m, const Int* n, const Int* nrhs, double* a,
            const Int* lda, double* b, const Int* ldb, double* work, const Int* lwork, Int* info,
            Length);
void sgesv_(const Int* n, const Int* nrhs, float* a, const Int* lda, Int* ipiv, float* b,
            const Int* ldb, Int* info);
void dgesv_(const Int* n, const Int* nrhs, double* a, const Int* lda, Int* ipiv, double* b,
            const Int* ldb, Int* info);
void strsm_(const char* side, const char* uplo, const char* transa, const char* diag, const Int* m,
            const Int* n, const float* alpha, const float* a, const Int* lda, float* b,
            const Int* ldb, Length, Length, Length, Length);
void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag, const Int* m,
            const Int* n, const double* alpha, const double* a, const Int* lda, double* b,
            const Int* ldb, Length, Length, Length, Length);
}

namespace tg::detail::lapack {
namespace {

Int as_int(int64_t n) { return static_cast<Int>(n); }

template <class T>
struct Routines;
template <>
struct Routines<float> {
  static constexpr auto getrf = sgetrf_;
  static constexpr auto getri = sgetri_;
  static constexpr auto gesv = sgesv_;
  static constexpr auto potrf = spotrf_;
  static constexpr auto syevd = ssyevd_;
  static constexpr auto gels = sgels_;
  static constexpr auto trsm = strsm_;
};
template <>
struct Routines<double> {
  static constexpr auto getrf = dgetrf_;
  static constexpr auto getri = dgetri_;
  static constexpr auto gesv = dgesv_;
  static constexpr auto potrf = dpotrf_;
  static constexpr auto syevd = dsyevd_;
  static constexpr auto gels = dgels_;
  static constexpr auto trsm = dtrsm_;
};

// A workspace query answers in a floating-point number; its integer part is the size.
template <class T>
int64_t queried_size(T answer) {
  return std::max<int64_t>(1, static_cast<int64_t>(answer));
}

}  // namespace

template <class T>
Int getrf(int64_t n, T* a, Int* pivots) {
  const Int size = as_int(n);
  Int info = 0;
  Routines<T>::getrf(&size, &size, a, &size, pivots, &info);
  return info;
}

// `lu` factors M = Aᵀ (A row-major) as M = P L U, so A = Uᵀ Lᵀ Pᵀ. Read column-major, the
// row-major X (n×k) is Xᵀ (k×n, leading dimension k), and A X = B is Xᵀ P L U = Bᵀ: two
// right-hand triangular solves give Xᵀ P, and undoing the row interchanges, last first, gives X.
template <class T>
void lu_solve_rows(int64_t n, int64_t k, const T* lu, const Int* pivots, T* x) {
  if (n == 0 || k == 0) return;
  const Int rows = as_int(k), size = as_int(n);
  const T one = T(1);
  Routines<T>::trsm("R", "U", "N", "N", &rows, &size, &one, lu, &size, x, &rows, 1, 1, 1, 1);
  Routines<T>::trsm("R", "L", "N", "U", &rows, &size, &one, lu, &size, x, &rows, 1, 1, 1, 1);
  for (int64_t i = n; i-- > 0;) {
    const int64_t other = pivots[i] - 1;
    if (other != i) std::swap_ranges(x + i * k, x + (i + 1) * k, x + other * k);
  }
}

// One call rather than getrf then getrs: each OpenBLAS entry point takes its buffer lock.
template <class T>
Int gesv(int64_t n, T* m, Int* pivots, T* x) {
  if (n == 0) return 0;
  const Int size = as_int(n), one = 1;
  Int info = 0;
  Routines<T>::gesv(&size, &one, m, &size, pivots, x, &size, &info);
  return info;
}

// Asked of LAPACK once per size and thread: the query costs as much as a small inverse.
template <class T>
int64_t getri_work_size(int64_t n) {
  thread_local int64_t cached_n = -1, cached_size = 0;
  if (n == cached_n) return cached_size;
  const Int size = as_int(std::max<int64_t>(n, 1)), query = -1;
  T answer{};
  Int info = 0;
  Routines<T>::getri(&size, nullptr, &size, nullptr, &answer, &query, &info);
  cached_n = n;
  cached_size = std::max<int64_t>(queried_size(answer), n);
  return cached_size;
}

template <class T>
Int getri(int64_t n, T* a, const Int* pivots, T* work, int64_t work_size) {
  if (n == 0) return 0;
  const Int size = as_int(n), lwork = as_int(work_size);
  Int info = 0;
  Routines<T>::getri(&size, a, &size, pivots, work, &lwork, &info);
  return info;
}

template <class T>
Int potrf(bool upper, int64_t n, T* a) {
  if (n == 0) return 0;
  const Int size = as_int(n);
  Int info = 0;
  Routines<T>::potrf(upper ? "U" : "L", &size, a, &size, &info, 1);
  return info;
}

// LAPACK's documented minimum sizes for syevd (JOBZ = 'V': 1 + 6n + 2n², 3 + 5n; 'N': 2n + 1, 1).
template <class T>
void syevd_work_sizes(bool vectors, int64_t n, int64_t& work, int64_t& int_work) {
  if (n <= 1) {
    work = vectors ? 2 : 1;
    int_work = 1;
    return;
  }
  work = vectors ? 1 + 6 * n + 2 * n * n : 2 * n + 1;
  int_work = vectors ? 3 + 5 * n : 1;
}

template <class T>
Int syevd(bool vectors, int64_t n, T* a, T* values, T* work, int64_t work_size, Int* int_work,
          int64_t int_work_size) {
  if (n == 0) return 0;
  const Int size = as_int(n), lwork = as_int(work_size), liwork = as_int(int_work_size);
  Int info = 0;
  Routines<T>::syevd(vectors ? "V" : "N", "U", &size, a, &size, values, work, &lwork, int_work,
                     &liwork, &info, 1, 1);
  return info;
}

template <class T>
int64_t gels_work_size(int64_t m, int64_t n, int64_t k) {
  const Int rows = as_int(std::max<int64_t>(n, 1)), cols = as_int(std::max<int64_t>(m, 1));
  const Int nrhs = as_int(std::max<int64_t>(k, 1)), query = -1;
  T answer{};
  Int info = 0;
  Routines<T>::gels("T", &rows, &cols, &nrhs, nullptr, &rows, nullptr, &cols, &answer, &query,
                    &info, 1);
  return std::max<int64_t>(queried_size(answer), std::min(m, n) + std::max({m, n, k}));
}

template <class T>
Int gels(bool transpose, int64_t rows, int64_t cols, int64_t k, T* c, T* b, int64_t ldb, T* work,
         int64_t work_size) {
  if (rows == 0 || cols == 0 || k == 0) return 0;
  const Int m = as_int(rows), n = as_int(cols), nrhs = as_int(k), lb = as_int(ldb);
  const Int lwork = as_int(work_size);
  Int info = 0;
  Routines<T>::gels(transpose ? "T" : "N", &m, &n, &nrhs, c, &m, b, &lb, work, &lwork, &info, 1);
  return info;
}

#define TG_LAPACK_INSTANTIATE(T)                                              \
  template Int getrf<T>(int64_t, T*, Int*);                                   \
  template void lu_solve_rows<T>(int64_t, int64_t, const T*, const Int*, T*); \
  template Int gesv<T>(int64_t, T*, Int*, T*);                                \
  template int64_t getri_work_size<T>(int64_t);                               \
  template Int getri<T>(int64_t, T*, const Int*, T*, int64_t);                \
  template Int potrf<T>(bool, int64_t, T*);                                   \
  template void syevd_work_sizes<T>(bool, int64_t, int64_t&, int64_t&);       \
  template Int syevd<T>(bool, int64_t, T*, T*, T*, int64_t, Int*, int64_t);   \
  template int64_t gels_work_size<T>(int64_t, int64_t, int64_t);              \
  template Int gels<T>(bool, int64_t, int64_t, int64_t, T*, T*, int64_t, T*, int64_t);
TG_LAPACK_INSTANTIATE(float)
TG_LAPACK_INSTANTIATE(double)
#undef TG_LAPACK_INSTANTIATE

}  // namespace tg::detail::lapack
