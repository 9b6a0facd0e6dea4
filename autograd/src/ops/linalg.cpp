// tg::linalg on LAPACK: solve, inv, cholesky, det, slogdet, lstsq, eigh and eigvalsh, each forward
// beside its backward. Backwards are written with recorded ops (solve, matmul, transpose), so
// create_graph gives second derivatives.
#include "tapegrad/autograd/linalg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "kernels.hpp"
#include "lapack.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg::linalg {
namespace {

using detail::lapack::Int;

// ---- Shapes and checks ----

[[noreturn]] void fail(const std::string& message) { throw Error(message); }

void check_floating(const char* op, const Tensor& t, const char* name) {
  if (t.dtype() == DType::i64)
    fail(fmt::format("{}: expects f32 or f64, got {} of i64 {}; convert it with .to(tg::f64)", op,
                     name, format_shape(t.shape())));
}

// A [..., n, n] of a floating dtype; returns n.
int64_t check_square(const char* op, const Tensor& a) {
  check_floating(op, a, "A");
  const Shape& shape = a.shape();
  if (shape.size() < 2 || shape[shape.size() - 1] != shape[shape.size() - 2])
    fail(fmt::format("{}: expects square matrices A [..., n, n], got A {}", op,
                     format_shape(shape)));
  return shape.back();
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  check_floating(op, b, "B");
  if (a.dtype() != b.dtype())
    fail(fmt::format("{}: A and B must both be f32 or both f64, got {} {} and {} {}", op,
                     dtype_name(a.dtype()), format_shape(a.shape()), dtype_name(b.dtype()),
                     format_shape(b.shape())));
}

Shape leading(const Shape& shape, size_t dropped) {
  return Shape(shape.begin(), shape.end() - static_cast<std::ptrdiff_t>(dropped));
}

Shape with_matrix(Shape batch, int64_t rows, int64_t cols) {
  batch.push_back(rows);
  batch.push_back(cols);
  return batch;
}

// The number of matrices in a [..., rows, cols] tensor (also when rows or cols is 0).
int64_t batch_count(const Tensor& t) {
  int64_t count = 1;
  for (size_t i = 0; i + 2 < t.shape().size(); ++i) count *= t.shape()[i];
  return count;
}

// " (matrix i of the batch)" for a batched input, so a message points at the failing matrix.
std::string which_matrix(int64_t index, int64_t count) {
  return count > 1 ? fmt::format(" (matrix {} of the batch)", index) : std::string();
}

// B's batch dims broadcast against A's (as torch.linalg.solve); both come back expanded to the
// common batch, recorded, so their gradients are summed back by broadcast_to's backward.
std::pair<Tensor, Tensor> broadcast_batches(const char* op, const Tensor& a, const Tensor& b) {
  const Shape batch_a = leading(a.shape(), 2), batch_b = leading(b.shape(), 2);
  if (batch_a == batch_b) return {a, b};
  Shape batch;
  try {
    batch = detail::broadcast_shapes(op, batch_a, batch_b);
  } catch (const Error&) {
    fail(fmt::format("{}: A {} and B {}: batch dims {} and {} do not broadcast", op,
                     format_shape(a.shape()), format_shape(b.shape()), format_shape(batch_a),
                     format_shape(batch_b)));
  }
  return {broadcast_to(a, with_matrix(batch, a.size(-2), a.size(-1))),
          broadcast_to(b, with_matrix(batch, b.size(-2), b.size(-1)))};
}

// Whether a's dims before its last `a_dropped` equal b's before its last `b_dropped` (without
// building either shape: this runs on every call).
bool same_leading(const Tensor& a, size_t a_dropped, const Tensor& b, size_t b_dropped) {
  const Shape& x = a.shape();
  const Shape& y = b.shape();
  return x.size() >= a_dropped && y.size() >= b_dropped &&
         std::equal(x.begin(), x.end() - static_cast<std::ptrdiff_t>(a_dropped), y.begin(),
                    y.end() - static_cast<std::ptrdiff_t>(b_dropped));
}

// True when B is a batch of vectors: B [n] or B [..., n] with A [..., n, n] (torch's rule).
bool is_vector_rhs(const Tensor& a, const Tensor& b) {
  return b.dim() == 1 || (b.dim() == a.dim() - 1 && same_leading(a, 1, b, 0));
}

Tensor matrix_transpose(const Tensor& t) { return transpose(t, -2, -1); }

// ---- Workspace: at most one allocation per call, reused across the batch ----

// `count` elements of T followed by `int_count` LAPACK integers, in one block: on the stack when
// it is small (a matrix up to about 16×16), else one allocation.
template <class T>
class Workspace {
 public:
  Workspace(int64_t count, int64_t int_count) : count_(static_cast<size_t>(count)) {
    const size_t bytes = count_ * sizeof(T) + static_cast<size_t>(int_count) * sizeof(Int);
    if (bytes > sizeof(inline_)) heap_ = std::make_unique_for_overwrite<std::byte[]>(bytes);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  T* values() { return reinterpret_cast<T*>(block()); }
  Int* ints() { return reinterpret_cast<Int*>(block() + count_ * sizeof(T)); }

 private:
  std::byte* block() { return heap_ ? heap_.get() : inline_; }
  size_t count_;
  alignas(64) std::byte inline_[6144];
  std::unique_ptr<std::byte[]> heap_;
};

// ---- Kernels: LAPACK over each matrix of a batch ----

// A copy of `t` with its own storage, unrecorded.
Tensor copy_of(const Tensor& t_strided) {
  Tensor t_holder;
  const Tensor& t = detail::dense_values(t_strided, t_holder);

  Tensor out = detail::empty(t.shape(), t.dtype());
  std::memcpy(out.impl()->data, t.impl()->data,
              static_cast<size_t>(t.numel() * element_size(t.dtype())));
  return out;
}

// Up to this n a solve for one vector transposes A and calls gesv: one OpenBLAS entry point
// instead of two (each takes OpenBLAS's buffer lock) made n = 8 about 1.2× faster. Beyond it the
// transposed copy's page-strided writes cost more than that (n = 128..512: 1.7–1.8× slower
// than LAPACK), so A is factored as stored and solved by two triangular solves.
constexpr int64_t kGesvUpTo = 64;

// X with A X = B for A [batch, n, n] and B [batch, n, k] (same batch), or B [batch, n] with
// k = 1, unrecorded.
Tensor solve_values(const Tensor& a_strided, const Tensor& b_strided, int64_t k) {
  Tensor a_holder;
  const Tensor& a = detail::dense_values(a_strided, a_holder);
  Tensor b_holder;
  const Tensor& b = detail::dense_values(b_strided, b_holder);

  const int64_t n = a.shape().back(), count = batch_count(a);
  Tensor out = copy_of(b);
  detail::dispatch_floating("linalg.solve", a.dtype(), [&]<class T>() {
    Workspace<T> work(n * n, n);
    const T* matrices = detail::data_of<T>(a);
    T* x = detail::data_of<T>(out);
    for (int64_t i = 0; i < count; ++i) {
      const T* matrix = matrices + i * n * n;
      Int info = 0;
      if (k == 1 && n <= kGesvUpTo) {
        // One vector, small A: copied column-major (a transposed copy) and solved by gesv, one
        // LAPACK call as a caller of LAPACK would make.
        for (int64_t r = 0; r < n; ++r)
          for (int64_t c = 0; c < n; ++c) work.values()[c * n + r] = matrix[r * n + c];
        info = detail::lapack::gesv<T>(n, work.values(), work.ints(), x + i * n);
      } else {
        std::memcpy(work.values(), matrix, static_cast<size_t>(n * n) * sizeof(T));
        info = detail::lapack::getrf<T>(n, work.values(), work.ints());
        if (info == 0)
          detail::lapack::lu_solve_rows<T>(n, k, work.values(), work.ints(), x + i * n * k);
      }
      if (info > 0)
        fail(fmt::format(
            "linalg.solve: A {} is singular{}: the diagonal element {} of its LU factor U is zero",
            format_shape(a.shape()), which_matrix(i, count), info));
    }
  });
  return out;
}

// A⁻¹ for each matrix of A [..., n, n], unrecorded.
Tensor inverse_values(const char* op, const Tensor& a_strided) {
  Tensor a_holder;
  const Tensor& a = detail::dense_values(a_strided, a_holder);

  const int64_t n = a.shape().back(), count = batch_count(a);
  Tensor out = copy_of(a);
  detail::dispatch_floating(op, a.dtype(), [&]<class T>() {
    const int64_t work_size = detail::lapack::getri_work_size<T>(n);
    Workspace<T> work(work_size, n);
    T* x = detail::data_of<T>(out);
    // Row-major A is column-major Aᵀ, and (Aᵀ)⁻¹ read row-major is A⁻¹: no transposes needed.
    for (int64_t i = 0; i < count; ++i) {
      T* matrix = x + i * n * n;
      Int info = detail::lapack::getrf<T>(n, matrix, work.ints());
      if (info == 0)
        info = detail::lapack::getri<T>(n, matrix, work.ints(), work.values(), work_size);
      if (info > 0)
        fail(fmt::format(
            "{}: A {} is singular{}: the diagonal element {} of its LU factor U is zero", op,
            format_shape(a.shape()), which_matrix(i, count), info));
    }
  });
  return out;
}

// det A, or (sign, log|det A|), of each matrix from its LU factors: det = ±Π U(i, i).
struct Determinants {
  Tensor det, sign, log_abs;
};
Determinants determinant_values(const char* op, const Tensor& a_strided, bool logarithmic) {
  Tensor a_holder;
  const Tensor& a = detail::dense_values(a_strided, a_holder);

  const int64_t n = a.size(-1), count = batch_count(a);
  const Shape batch = leading(a.shape(), 2);
  Determinants result;
  (logarithmic ? result.sign : result.det) = detail::empty(batch, a.dtype());
  if (logarithmic) result.log_abs = detail::empty(batch, a.dtype());
  detail::dispatch_floating(op, a.dtype(), [&]<class T>() {
    Workspace<T> work(n * n, n);
    const T* matrices = detail::data_of<T>(a);
    for (int64_t i = 0; i < count; ++i) {
      std::memcpy(work.values(), matrices + i * n * n, static_cast<size_t>(n * n) * sizeof(T));
      // A zero pivot (info > 0) leaves a zero on U's diagonal, so the product below is 0.
      detail::lapack::getrf<T>(n, work.values(), work.ints());
      T product = T(1), log_abs = T(0);
      bool negative = false;
      for (int64_t j = 0; j < n; ++j) {
        const T pivot = work.values()[j * n + j];
        if (work.ints()[j] - 1 != j) negative = !negative;
        if (pivot < T(0)) negative = !negative;
        if (logarithmic)
          log_abs += std::log(std::abs(pivot));
        else
          product *= pivot;
      }
      if (logarithmic) {
        const bool singular = std::isinf(log_abs) && log_abs < T(0);
        detail::data_of<T>(result.sign)[i] = singular ? T(0) : negative ? T(-1) : T(1);
        detail::data_of<T>(result.log_abs)[i] = log_abs;
      } else {
        detail::data_of<T>(result.det)[i] = negative ? -std::abs(product) : std::abs(product);
      }
    }
  });
  return result;
}

// The Cholesky factor of each matrix, the other triangle zeroed, unrecorded.
Tensor cholesky_values(const Tensor& a_strided, bool upper) {
  Tensor a_holder;
  const Tensor& a = detail::dense_values(a_strided, a_holder);

  const int64_t n = a.size(-1), count = batch_count(a);
  Tensor out = copy_of(a);
  detail::dispatch_floating("linalg.cholesky", a.dtype(), [&]<class T>() {
    T* x = detail::data_of<T>(out);
    for (int64_t i = 0; i < count; ++i) {
      T* matrix = x + i * n * n;
      // Column-major, the row-major lower triangle is the upper one: potrf("U") reads it and
      // writes U_c with A = U_cᵀ U_c, whose row-major reading is L = U_cᵀ. Likewise for upper.
      if (const Int info = detail::lapack::potrf<T>(!upper, n, matrix); info > 0)
        fail(fmt::format(
            "linalg.cholesky: A {} is not positive definite{}: its leading minor of order {} is "
            "not positive",
            format_shape(a.shape()), which_matrix(i, count), info));
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < n; ++c)
          if (upper ? c < r : c > r) matrix[r * n + c] = T(0);
    }
  });
  return out;
}

// Least squares X [batch, n, k] for A [batch, m, n] (m >= n), B [batch, m, k], unrecorded.
Tensor lstsq_values(const Tensor& a_strided, const Tensor& b_strided) {
  Tensor a_holder;
  const Tensor& a = detail::dense_values(a_strided, a_holder);
  Tensor b_holder;
  const Tensor& b = detail::dense_values(b_strided, b_holder);

  const int64_t m = a.size(-2), n = a.size(-1), k = b.size(-1), count = batch_count(a);
  const Shape batch = leading(a.shape(), 2);
  Tensor out = detail::empty(with_matrix(batch, n, k), a.dtype());
  detail::dispatch_floating("linalg.lstsq", a.dtype(), [&]<class T>() {
    const int64_t work_size = detail::lapack::gels_work_size<T>(m, n, k);
    Workspace<T> work(m * n + m * k + work_size, 0);
    T* c = work.values();
    T* rhs = c + m * n;
    const T* matrices = detail::data_of<T>(a);
    const T* rhs_in = detail::data_of<T>(b);
    T* x = detail::data_of<T>(out);
    for (int64_t i = 0; i < count; ++i) {
      // Row-major A [m, n] is column-major Aᵀ [n, m]: gels solves min ‖(Aᵀ)ᵀ X − B‖ with it as is.
      std::memcpy(c, matrices + i * m * n, static_cast<size_t>(m * n) * sizeof(T));
      const T* bi = rhs_in + i * m * k;
      for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < k; ++j) rhs[j * m + r] = bi[r * k + j];
      if (const Int info =
              detail::lapack::gels<T>(true, n, m, k, c, rhs, m, rhs + m * k, work_size);
          info > 0)
        fail(
            fmt::format("linalg.lstsq: A {} does not have full column rank{}: the diagonal element "
                        "{} of its QR "
                        "factor R is zero",
                        format_shape(a.shape()), which_matrix(i, count), info));
      T* xi = x + i * n * k;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < k; ++j) xi[r * k + j] = rhs[j * m + r];
    }
  });
  return out;
}

// Eigenvalues [..., n] and, with `vectors`, eigenvectors packed as [..., n + 1, n]: row 0 the
// ascending eigenvalues, rows 1..n the matrix whose columns are the eigenvectors. One tensor, so
// that eigh is one record on the tape.
Tensor eigh_values(const Tensor& a_strided, bool vectors) {
  Tensor a_holder;
  const Tensor& a = detail::dense_values(a_strided, a_holder);

  const int64_t n = a.size(-1), count = batch_count(a);
  const Shape batch = leading(a.shape(), 2);
  Tensor out = vectors ? detail::empty(with_matrix(batch, n + 1, n), a.dtype())
                       : detail::empty(with_matrix(batch, 1, n), a.dtype());
  detail::dispatch_floating("linalg.eigh", a.dtype(), [&]<class T>() {
    int64_t work_size = 0, int_work_size = 0;
    detail::lapack::syevd_work_sizes<T>(vectors, n, work_size, int_work_size);
    Workspace<T> work(n * n + work_size, int_work_size);
    T* matrix = work.values();
    const T* matrices = detail::data_of<T>(a);
    T* x = detail::data_of<T>(out);
    const int64_t stride = vectors ? (n + 1) * n : n;
    for (int64_t i = 0; i < count; ++i) {
      // Column-major, the row-major lower triangle is the upper one, which syevd("U") reads.
      std::memcpy(matrix, matrices + i * n * n, static_cast<size_t>(n * n) * sizeof(T));
      T* values = x + i * stride;
      if (detail::lapack::syevd<T>(vectors, n, matrix, values, matrix + n * n, work_size,
                                   work.ints(), int_work_size) > 0)
        fail(fmt::format("linalg.eigh: A {}: the eigenvalue iteration did not converge{}",
                         format_shape(a.shape()), which_matrix(i, count)));
      if (!vectors) continue;
      // syevd leaves eigenvector c in column c, column-major; row-major V[r][c] is matrix[c n + r].
      T* v = values + n;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t c = 0; c < n; ++c) v[r * n + c] = matrix[c * n + r];
    }
  });
  return out;
}

// True when every element of t is 0 (an output's gradient that was never used).
bool all_zero(const Tensor& t_strided) {
  Tensor t_holder;
  const Tensor& t = detail::dense_values(t_strided, t_holder);
  bool zero = true;
  detail::dispatch_floating("linalg.eigh", t.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(t);
    for (int64_t i = 0, end = t.numel(); i < end && zero; ++i) zero = x[i] == T(0);
  });
  return zero;
}

// n×n with 1 below the diagonal, ½ on it and 0 above: Φ of the Cholesky backward.
Tensor lower_half_diagonal(int64_t n, DType dtype) {
  std::vector<double> mask(static_cast<size_t>(n * n), 0.0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c <= r; ++c) mask[static_cast<size_t>(r * n + c)] = r == c ? 0.5 : 1.0;
  return tensor(std::move(mask), {n, n}, {.dtype = dtype});
}

// ---- The recorded ops, on matrices with equal batch dims ----

// X = A⁻¹ B:  gB = A⁻ᵀ G,  gA = −gB Xᵀ
Tensor solve_matrices(const Tensor& a, const Tensor& b) {
  Tensor out = solve_values(a, b, b.size(-1));
  if (detail::unrecorded("linalg.solve", out, {&a, &b})) return out;
  return detail::record(
      "linalg.solve", out, {&a, &b},
      [a_saved = detail::SavedTensor(a), b_saved = detail::SavedTensor(b),
       x_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        const Tensor& a_in = a_saved.unpack();
        const Tensor& b_in = b_saved.unpack();
        const Tensor gb = solve_matrices(matrix_transpose(a_in), g);
        if (!a_in.requires_grad()) return {Tensor(), gb};
        const Tensor x = x_saved.value([&] { return solve_matrices(a_in, b_in); });
        return {-matmul(gb, matrix_transpose(x)), b_in.requires_grad() ? gb : Tensor()};
      });
}

// X = A⁻¹:  gA = −Xᵀ G Xᵀ
Tensor inv_matrices(const Tensor& a) {
  Tensor out = inverse_values("linalg.inv", a);
  if (detail::unrecorded("linalg.inv", out, {&a})) return out;
  return detail::record("linalg.inv", out, {&a},
                        [a_saved = detail::SavedTensor(a),
                         x_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
                          const Tensor x = x_saved.value([&] { return inv(a_saved.unpack()); });
                          const Tensor xt = matrix_transpose(x);
                          return {-matmul(matmul(xt, g), xt)};
                        });
}

// A⁻ᵀ as recorded ops, for the determinant backwards; a singular A is named with `op`.
Tensor inverse_transpose(const char* op, const Tensor& a) {
  try {
    return matrix_transpose(inv(a));
  } catch (const Error& error) {
    fail(fmt::format("{} backward: the gradient needs A⁻¹ ({})", op, error.what()));
  }
}

// G [...] broadcast over the matrices [..., n, n].
Tensor per_matrix(const Tensor& g) { return unsqueeze(unsqueeze(g, -1), -1); }

}  // namespace

Tensor solve(const Tensor& A, const Tensor& B) {
  const int64_t n = check_square("linalg.solve", A);
  check_same_dtype("linalg.solve", A, B);
  const bool vector = is_vector_rhs(A, B);
  if (B.dim() < (vector ? 1 : 2) || B.size(vector ? -1 : -2) != n)
    fail(fmt::format(
        "linalg.solve: A {} with B {}: B must be [..., {}] or [..., {}, k] to match A's size {}",
        format_shape(A.shape()), format_shape(B.shape()), n, n, n));
  if (vector) {
    // Without a record to make, one vector per matrix needs no reshaping.
    if (!detail::should_record({&A, &B}) && same_leading(A, 2, B, 1)) {
      Tensor out = solve_values(A, B, 1);
      detail::check_forward_anomaly("linalg.solve", out);
      return out;
    }
    return squeeze(solve(A, unsqueeze(B, -1)), -1);
  }
  const auto [a, b] = broadcast_batches("linalg.solve", A, B);
  return solve_matrices(a, b);
}

Tensor inv(const Tensor& A) {
  check_square("linalg.inv", A);
  return inv_matrices(A);
}

// Murray (2016), "Differentiation of the Cholesky decomposition", as torch: with A = L Lᵀ,
//   Φ(X) = the lower triangle of X with its diagonal halved,  P = ½ (Φ(Lᵀ G) + Φ(Lᵀ G)ᵀ),
//   gA = L⁻ᵀ P L⁻¹ (symmetric).  For upper, U = Lᵀ and G is transposed likewise.
Tensor cholesky(const Tensor& A, bool upper) {
  const int64_t n = check_square("linalg.cholesky", A);
  Tensor out = cholesky_values(A, upper);
  if (detail::unrecorded("linalg.cholesky", out, {&A})) return out;
  return detail::record(
      "linalg.cholesky", out, {&A},
      [a_saved = detail::SavedTensor(A), l_saved = detail::SavedOutput(out), upper,
       n](const Tensor& g) -> Gradients {
        const Tensor factor = l_saved.value([&] { return cholesky(a_saved.unpack(), upper); });
        const Tensor l = upper ? matrix_transpose(factor) : factor;
        const Tensor gl = upper ? matrix_transpose(g) : g;
        const Tensor lt = matrix_transpose(l);
        const Tensor phi = matmul(lt, gl) * lower_half_diagonal(n, l.dtype());
        const Tensor p = (phi + matrix_transpose(phi)) * 0.5;
        const Tensor y = solve(lt, p);                              // L⁻ᵀ P
        return {matrix_transpose(solve(lt, matrix_transpose(y)))};  // (L⁻ᵀ yᵀ)ᵀ = y L⁻¹
      });
}

// d det A = det A · tr(A⁻¹ dA):  gA = G det A · A⁻ᵀ
Tensor det(const Tensor& A) {
  check_square("linalg.det", A);
  Tensor out = determinant_values("linalg.det", A, false).det;
  if (detail::unrecorded("linalg.det", out, {&A})) return out;
  return detail::record("linalg.det", out, {&A},
                        [a_saved = detail::SavedTensor(A),
                         det_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
                          const Tensor& a = a_saved.unpack();
                          const Tensor d = det_saved.value([&] { return det(a); });
                          return {per_matrix(g * d) * inverse_transpose("linalg.det", a)};
                        });
}

// d log|det A| = tr(A⁻¹ dA):  gA = G A⁻ᵀ; the sign is piecewise constant.
std::pair<Tensor, Tensor> slogdet(const Tensor& A) {
  check_square("linalg.slogdet", A);
  Determinants values = determinant_values("linalg.slogdet", A, true);
  if (detail::unrecorded("linalg.slogdet", values.log_abs, {&A}))
    return {values.sign, values.log_abs};
  Tensor log_abs = detail::record(
      "linalg.slogdet", values.log_abs, {&A},
      [a_saved = detail::SavedTensor(A)](const Tensor& g) -> Gradients {
        return {per_matrix(g) * inverse_transpose("linalg.slogdet", a_saved.unpack())};
      });
  return {values.sign, log_abs};
}

// X = (AᵀA)⁻¹ Aᵀ B for full column rank. With Y = (AᵀA)⁻¹ G and the residual R = B − A X,
//   gA = R Yᵀ − A Y Xᵀ,  gB = A Y
// (from dX = (AᵀA)⁻¹ (dAᵀ R + Aᵀ dB − Aᵀ dA X)).
Tensor lstsq(const Tensor& A, const Tensor& B) {
  check_floating("linalg.lstsq", A, "A");
  check_same_dtype("linalg.lstsq", A, B);
  if (A.dim() < 2)
    fail(fmt::format("linalg.lstsq: expects matrices A [..., m, n], got A {}",
                     format_shape(A.shape())));
  const int64_t m = A.size(-2), n = A.size(-1);
  const bool vector =
      B.dim() == 1 || (B.dim() == A.dim() - 1 && leading(B.shape(), 1) == leading(A.shape(), 2));
  if (B.dim() < 1 || B.size(vector ? -1 : -2) != m)
    fail(fmt::format("linalg.lstsq: A {} with B {}: B must be [..., {}] or [..., {}, k]",
                     format_shape(A.shape()), format_shape(B.shape()), m, m));
  if (m < n)
    fail(fmt::format(
        "linalg.lstsq: A {} has fewer rows ({}) than columns ({}); only full column rank "
        "(m >= n) systems are supported",
        format_shape(A.shape()), m, n));
  if (vector) return squeeze(lstsq(A, unsqueeze(B, -1)), -1);
  const auto [a, b] = broadcast_batches("linalg.lstsq", A, B);
  Tensor out = lstsq_values(a, b);
  if (detail::unrecorded("linalg.lstsq", out, {&a, &b})) return out;
  return detail::record("linalg.lstsq", out, {&a, &b},
                        [a_saved = detail::SavedTensor(a), b_saved = detail::SavedTensor(b),
                         x_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
                          const Tensor& a_in = a_saved.unpack();
                          const Tensor& b_in = b_saved.unpack();
                          const Tensor x = x_saved.value([&] { return lstsq(a_in, b_in); });
                          const Tensor y = solve(matmul(matrix_transpose(a_in), a_in), g);
                          const Tensor ay = matmul(a_in, y);
                          const Tensor ga =
                              a_in.requires_grad()
                                  ? matmul(b_in - matmul(a_in, x), matrix_transpose(y)) -
                                        matmul(ay, matrix_transpose(x))
                                  : Tensor();
                          return {ga, b_in.requires_grad() ? ay : Tensor()};
                        });
}

namespace {

// eigh packed as [..., n + 1, n] (see eigh_values). With A = V Λ Vᵀ, gΛ, gV the gradients of the
// eigenvalues and eigenvectors, and E_ij = λⱼ − λᵢ (1 on the diagonal):
//   gA = V (diag(gΛ) + skew(Vᵀ gV) / E) Vᵀ,  skew(X) = ½ (X − Xᵀ)
// as torch's linalg_eig_backward for Hermitian A. When only the eigenvalues were used, gV is zero
// and the second term is dropped, so their gradient is finite even where eigenvalues repeat.
Tensor eigh_packed(const Tensor& A) {
  const int64_t n = check_square("linalg.eigh", A);
  Tensor out = eigh_values(A, true);
  if (detail::unrecorded("linalg.eigh", out, {&A})) return out;
  return detail::record(
      "linalg.eigh", out, {&A},
      [a_saved = detail::SavedTensor(A), out_saved = detail::SavedOutput(out),
       n](const Tensor& g) -> Gradients {
        const Tensor packed = out_saved.value([&] { return eigh_packed(a_saved.unpack()); });
        const Tensor values = select(packed, -2, 0);
        const Tensor vectors = narrow(packed, -2, 1, n);
        const Tensor g_values = select(g, -2, 0);
        const Tensor g_vectors = narrow(g, -2, 1, n);
        const Tensor identity = eye(n, {.dtype = g.dtype()});
        Tensor inner = unsqueeze(g_values, -1) * identity;
        if (!all_zero(g_vectors)) {
          const Tensor vtgv = matmul(matrix_transpose(vectors), g_vectors);
          const Tensor skew = (vtgv - matrix_transpose(vtgv)) * 0.5;
          const Tensor gaps = unsqueeze(values, -2) - unsqueeze(values, -1) + identity;
          inner = inner + skew / gaps;
        }
        return {matmul(matmul(vectors, inner), matrix_transpose(vectors))};
      });
}

}  // namespace

std::pair<Tensor, Tensor> eigh(const Tensor& A) {
  const Tensor packed = eigh_packed(A);
  return {select(packed, -2, 0), narrow(packed, -2, 1, A.size(-1))};
}

Tensor eigvalsh(const Tensor& A) {
  check_square("linalg.eigvalsh", A);
  if (detail::should_record({&A})) return select(eigh_packed(A), -2, 0);
  return select(eigh_values(A, false), -2, 0);
}

}  // namespace tg::linalg
