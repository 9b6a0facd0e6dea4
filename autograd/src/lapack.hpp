// The only door to LAPACK (OpenBLAS ships it): LU, Cholesky, symmetric eigen and QR least squares.
// Every routine here reads and writes column-major matrices, as LAPACK does; a row-major n×n
// buffer is the column-major transpose, which the callers in ops/linalg.cpp account for.
#pragma once

#include <cstdint>

namespace tg::detail::lapack {

/// LAPACK's integer (Debian's OpenBLAS is built with 32-bit LAPACK integers).
using Int = int;

/// LU with partial pivoting of the n×n matrix `a` in place (getrf); returns LAPACK's info: 0, or
/// i > 0 when U(i, i) is exactly zero.
template <class T>
Int getrf(int64_t n, T* a, Int* pivots);

/// Solves op(M) X = B given M's LU factors from getrf, where `x` holds B (n rows, k columns,
/// row-major) on entry and X on return: with `transpose`, op(M) = Mᵀ, so a row-major A factored in
/// place (M = Aᵀ) gives A X = B without transposing B or X (two triangular solves and the pivots).
template <class T>
void lu_solve_rows(int64_t n, int64_t k, const T* lu, const Int* pivots, T* x);

/// Solves M x = b for the column-major n×n M (overwritten by its LU factors) and one right-hand
/// side `x` (b on entry), as one call (gesv); returns getrf's info.
template <class T>
Int gesv(int64_t n, T* m, Int* pivots, T* x);

/// The workspace getri wants for an n×n inverse, in elements.
template <class T>
int64_t getri_work_size(int64_t n);

/// The inverse from getrf's factors, in place (getri); returns info (i > 0: singular at i).
template <class T>
Int getri(int64_t n, T* a, const Int* pivots, T* work, int64_t work_size);

/// Cholesky factor of a symmetric positive definite matrix in place (potrf), reading and writing
/// the `upper` or lower triangle; returns info: i > 0 when the leading minor of order i is not
/// positive definite.
template <class T>
Int potrf(bool upper, int64_t n, T* a);

/// The workspace syevd wants (elements of T, then of Int) for an n×n matrix.
template <class T>
void syevd_work_sizes(bool vectors, int64_t n, int64_t& work, int64_t& int_work);

/// Eigenvalues (ascending, into `values`) and, with `vectors`, orthonormal eigenvectors (the
/// columns of `a`, in place) of the symmetric matrix whose upper triangle `a` holds (syevd);
/// returns info (i > 0: no convergence).
template <class T>
Int syevd(bool vectors, int64_t n, T* a, T* values, T* work, int64_t work_size, Int* int_work,
          int64_t int_work_size);

/// The workspace gels wants for min ‖A X − B‖ with A m×n, m >= n, and k right-hand sides.
template <class T>
int64_t gels_work_size(int64_t m, int64_t n, int64_t k);

/// Least squares min ‖op(C) X − B‖ by QR (gels), for C stored rows×cols column-major with
/// `transpose` meaning op(C) = Cᵀ; `b` holds B (column-major, leading dimension ldb) on entry and
/// X in its first rows on return. Returns info: i > 0 when R(i, i) is exactly zero (rank < n).
template <class T>
Int gels(bool transpose, int64_t rows, int64_t cols, int64_t k, T* c, T* b, int64_t ldb, T* work,
         int64_t work_size);

}  // namespace tg::detail::lapack
