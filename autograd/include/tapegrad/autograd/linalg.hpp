// tg::linalg: solve, inv, cholesky, det, slogdet, lstsq, eigh and eigvalsh, as torch.linalg.
#pragma once

#include <utility>

#include "tapegrad/autograd/tensor.hpp"

/// Linear algebra on LAPACK, differentiable, f32 and f64. Every function takes matrices in the
/// last two dims and runs once per matrix of the leading (batch) dims. A singular matrix (solve,
/// inv), one that is not positive definite (cholesky), not square or of mismatched size throws a
/// tg::Error naming the op, the shape and the failing pivot or leading minor.
///
///     tg::Tensor H = tg::autograd::hessian(f, x);
///     tg::Tensor step = tg::linalg::solve(H, g);   // Newton: x -= H⁻¹ g
namespace tg::linalg {

/// X with A X = B, A [..., n, n]; B is [..., n] (a batch of vectors) or [..., n, k], and the
/// batch dims of A and B broadcast. Differentiable twice.
Tensor solve(const Tensor& A, const Tensor& B);

/// A⁻¹ for A [..., n, n]. Differentiable twice.
Tensor inv(const Tensor& A);

/// The Cholesky factor L (A = L Lᵀ, lower) or, with `upper`, U (A = Uᵀ U) of a symmetric positive
/// definite A [..., n, n]. Reads only that triangle of A, and its gradient is the symmetric one, as
/// torch.linalg.cholesky's. Differentiable twice.
Tensor cholesky(const Tensor& A, bool upper = false);

/// det A for A [..., n, n], giving [...]. Differentiable twice where A is invertible; its gradient
/// at an exactly singular A throws (torch returns the adjugate there).
Tensor det(const Tensor& A);

/// (sign, log|det A|) for A [..., n, n], each [...]; a singular A gives (0, -inf). The sign has no
/// gradient; log|det A|'s is A⁻ᵀ. Differentiable twice.
std::pair<Tensor, Tensor> slogdet(const Tensor& A);

/// The least-squares solution X of min ‖A X − B‖ for A [..., m, n] of full column rank (m >= n),
/// B [..., m] or [..., m, k], by QR. Differentiable twice.
Tensor lstsq(const Tensor& A, const Tensor& B);

/// (eigenvalues [..., n], ascending; eigenvectors [..., n, n], the columns) of the symmetric A,
/// reading its lower triangle as torch.linalg.eigh. The eigenvectors' gradient divides by
/// λⱼ − λᵢ, so it is infinite or NaN where eigenvalues repeat, as in PyTorch; the values' gradient
/// (V diag(ḡ) Vᵀ) is defined everywhere. Differentiable twice where eigenvalues are distinct.
std::pair<Tensor, Tensor> eigh(const Tensor& A);

/// The eigenvalues of eigh(A), ascending, [..., n]; without a gradient to compute, no eigenvectors.
Tensor eigvalsh(const Tensor& A);

}  // namespace tg::linalg
