// The operations on tensors: free functions, differentiable unless said otherwise.
#pragma once

#include <concepts>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

// Elementwise arithmetic with NumPy broadcasting; f32 with f64 gives f64, i64 with a floating
// tensor gives the floating dtype.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& a);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& a);
// An integer scalar (any integral type, so `t * 2` is not ambiguous) takes the tensor's dtype:
// an i64 tensor stays i64, as PyTorch's arange(3) * 2; `/` still divides as floats. A double
// with an i64 tensor gives f32, whatever its value.
template <std::integral I>
Tensor operator+(const Tensor& a, I b) {
  return add(a, detail::integer_operand(a, static_cast<int64_t>(b)));
}
template <std::integral I>
Tensor operator-(const Tensor& a, I b) {
  return sub(a, detail::integer_operand(a, static_cast<int64_t>(b)));
}
template <std::integral I>
Tensor operator*(const Tensor& a, I b) {
  return mul(a, detail::integer_operand(a, static_cast<int64_t>(b)));
}
template <std::integral I>
Tensor operator/(const Tensor& a, I b) {
  return div(a, detail::integer_operand(a, static_cast<int64_t>(b)));
}
template <std::integral I>
Tensor operator+(I a, const Tensor& b) {
  return add(detail::integer_operand(b, static_cast<int64_t>(a)), b);
}
template <std::integral I>
Tensor operator-(I a, const Tensor& b) {
  return sub(detail::integer_operand(b, static_cast<int64_t>(a)), b);
}
template <std::integral I>
Tensor operator*(I a, const Tensor& b) {
  return mul(detail::integer_operand(b, static_cast<int64_t>(a)), b);
}
template <std::integral I>
Tensor operator/(I a, const Tensor& b) {
  return div(detail::integer_operand(b, static_cast<int64_t>(a)), b);
}

// Elementwise functions.
/// a^exponent; d/da = exponent * a^(exponent-1).
Tensor pow(const Tensor& a, double exponent);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
/// |a|; its gradient at 0 is 0, as in PyTorch.
Tensor abs(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
/// max(a, 0); relu(NaN) = NaN, as PyTorch.
Tensor relu(const Tensor& a);
/// a where a > 0, slope * a elsewhere.
Tensor leaky_relu(const Tensor& a, double slope = 0.01);
/// a limited to [lo, hi]; the gradient passes where lo <= a <= hi. NaN stays NaN; with lo > hi
/// every element is hi (zero gradient), as PyTorch.
Tensor clamp(const Tensor& a, double lo, double hi);
/// Elementwise larger of a and b; a tie sends half the gradient to each, and a NaN on either
/// side gives NaN with the whole gradient to both, as in PyTorch.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
/// log(1 + a), accurate for small a.
Tensor log1p(const Tensor& a);
/// e^a - 1, accurate for small a.
Tensor expm1(const Tensor& a);
/// a * a.
Tensor square(const Tensor& a);
/// log(1 + e^(beta a)) / beta, and a itself where beta * a > threshold, as in PyTorch.
Tensor softplus(const Tensor& a, double beta = 1.0, double threshold = 20.0);
/// a * Phi(a) with Phi the standard normal CDF (the exact erf form, not the tanh one).
Tensor gelu(const Tensor& a);
/// a * sigmoid(a) (also called swish).
Tensor silu(const Tensor& a);
/// a where a > 0, alpha * (e^a - 1) elsewhere.
Tensor elu(const Tensor& a, double alpha = 1.0);
/// a where cond is nonzero, b elsewhere, all three broadcast; the gradient flows to a and b.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// Comparisons with broadcasting: 0 or 1 in the inputs' (promoted) dtype, never recorded.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
// With a double: 0 or 1 in a's dtype; the double is read in a's dtype, as PyTorch reads a scalar.
Tensor eq(const Tensor& a, double b);
Tensor ne(const Tensor& a, double b);
Tensor lt(const Tensor& a, double b);
Tensor le(const Tensor& a, double b);
Tensor gt(const Tensor& a, double b);
Tensor ge(const Tensor& a, double b);
// The operators are the comparisons above (so `a == b` is a tensor, not a bool).
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, double b);
Tensor operator!=(const Tensor& a, double b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);
Tensor operator==(double a, const Tensor& b);
Tensor operator!=(double a, const Tensor& b);
Tensor operator<(double a, const Tensor& b);
Tensor operator<=(double a, const Tensor& b);
Tensor operator>(double a, const Tensor& b);
Tensor operator>=(double a, const Tensor& b);

// Reductions; a full reduction gives a 0-D tensor. On a 0-D tensor dims 0 and -1 are valid
// (and give a 0-D result), as in PyTorch; so for softmax, squeeze and transpose.
Tensor sum(const Tensor& a);
Tensor sum(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, int64_t dim, bool keepdim = false);
/// The largest element; ties share the gradient evenly, as in PyTorch.
Tensor max(const Tensor& a);
/// The largest values along `dim`; the gradient goes to the first largest of each slice.
Tensor max(const Tensor& a, int64_t dim, bool keepdim = false);
/// Index (i64) of the first largest value along `dim`; not differentiable.
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);
/// The smallest element; ties share the gradient evenly, as in PyTorch.
Tensor min(const Tensor& a);
/// The smallest values along `dim`; the gradient goes to the first smallest of each slice.
Tensor min(const Tensor& a, int64_t dim, bool keepdim = false);
/// Index (i64) of the first smallest value along `dim`; not differentiable.
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim = false);
/// The product of every element; its gradient is exact when elements are zero.
Tensor prod(const Tensor& a);
/// The unbiased (n - 1) variance of every element.
Tensor var(const Tensor& a);
/// The variance along `dim`, dividing by n - 1 when `unbiased`, else by n.
Tensor var(const Tensor& a, int64_t dim, bool unbiased = true, bool keepdim = false);
/// sqrt(var(a)).
Tensor std(const Tensor& a);
Tensor std(const Tensor& a, int64_t dim, bool unbiased = true, bool keepdim = false);
/// (sum |a|^p)^(1/p) over every element, p >= 1 or infinity; the gradient at a = 0 is 0.
Tensor norm(const Tensor& a, double p = 2.0);
/// Running sums along `dim`: out[i] = a[0] + ... + a[i].
Tensor cumsum(const Tensor& a, int64_t dim);

// Shapes. Every dim argument may be negative, counting from the end.
/// Same data, new shape (one entry may be -1).
Tensor reshape(const Tensor& a, const Shape& shape);
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor squeeze(const Tensor& a, int64_t dim);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
/// `length` entries of `dim` starting at `start`.
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
/// The tensors, all of one shape, joined along a new dimension `dim`.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);
/// Entry `index` of `dim` (negative counts from the end), with `dim` removed.
Tensor select(const Tensor& a, int64_t dim, int64_t index);
/// Entries start, start + step, ... before `end` of `dim`; negative start/end count from the
/// end and both are clamped to the size, as Python slicing.
Tensor slice(const Tensor& a, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
/// Dimensions start_dim..end_dim merged into one.
Tensor flatten(const Tensor& a, int64_t start_dim = 0, int64_t end_dim = -1);
/// The dimensions reordered: out dim i is a's dim dims[i].
Tensor permute(const Tensor& a, const Shape& dims);
/// `a` repeated along size-1 (or new leading) dims to `shape`; -1 keeps a size.
Tensor expand(const Tensor& a, const Shape& shape);
/// Pieces of `size` entries along `dim`; the last is smaller when `size` does not divide.
std::vector<Tensor> split(const Tensor& a, int64_t size, int64_t dim = 0);
/// At most `chunks` pieces along `dim`, each ceil(size / chunks) entries but the last.
/// The select views of `a` along `dim`.
std::vector<Tensor> unbind(const Tensor& a, int64_t dim = 0);
/// The diagonal of dims dim1 and dim2 (offset > 0 above it), a view, in the last dim.
Tensor diagonal(const Tensor& a, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1);
/// The lower triangle of the last two dims (elements with column - row <= k), zeros elsewhere.
Tensor tril(const Tensor& a, int64_t k = 0);
/// The upper triangle of the last two dims (elements with column - row >= k), zeros elsewhere.
Tensor triu(const Tensor& a, int64_t k = 0);
/// A 1-D tensor put on diagonal k of a square matrix, or diagonal k of a matrix copied out.
Tensor diag(const Tensor& a, int64_t k = 0);
/// Each vector of the last dim put on the diagonal of a square matrix: [..., n] -> [..., n, n].
Tensor diag_embed(const Tensor& a);
/// The (row, column) indices of the lower triangle (column - row <= offset) of a rows x cols
/// matrix, row by row: i64 [2, n].
Tensor tril_indices(int64_t rows, int64_t cols, int64_t offset = 0);
/// `a` with the elements where `mask` (broadcast to a's shape) is non-zero set to `value`.
Tensor masked_fill(const Tensor& a, const Tensor& mask, double value);
std::vector<Tensor> chunk(const Tensor& a, int64_t chunks, int64_t dim = 0);
/// Entries of `dim` at the i64 1-D `index`.
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
/// out[i][j] = a[index[i][j]][j] for dim 0 (and likewise for other dims).
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
/// A copy of `a` with `source` added at `index` along `dim` (the adjoint of gather).
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& source);
/// `a` repeated along broadcast dimensions to `shape`.
Tensor broadcast_to(const Tensor& a, const Shape& shape);
/// Sums `a` over the dimensions that broadcasting added or stretched, down to `shape`.
Tensor sum_to(const Tensor& a, const Shape& shape);

// Linear algebra.
/// Matrix product with torch.matmul's rules: 1-D operands are a row (left) or column (right),
/// dims before the last two are batch dims that broadcast ([1, 2, 3] @ [4, 3, 2] is [4, 2, 2]).
Tensor matmul(const Tensor& a, const Tensor& b);
/// x W^T + b in one fused GEMM (b may be undefined): the Linear layer's op.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});
/// relu(linear(x, weight, bias)) as one op and one record, with the same gradients (a linear
/// layer followed by ReLU, fused).
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// Softmax family, numerically stable (logits of +-1000 stay finite).
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
Tensor logsumexp(const Tensor& a, int64_t dim, bool keepdim = false);

// Normalisation, each one fused record (differentiable twice).
/// (x − mean)/√(var + eps)·weight + bias over the trailing dims `normalized_shape` of x, with the
/// biased variance, as torch.layer_norm; weight and bias have normalized_shape or are undefined.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
/// Batch normalisation of [N, C] or [N, C, L] per channel, as torch.nn.functional.batch_norm:
/// with `training`, the batch's mean and biased variance normalise, and defined running_mean and
/// running_var [C] become (1 − momentum)·running + momentum·batch (the unbiased variance), in
/// place and unrecorded; without, the running estimates normalise. weight and bias are [C] or
/// undefined.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

}  // namespace tg
