// The differentiable operations on tensors (and the comparisons, which are not).
#pragma once

#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

// Elementwise arithmetic with NumPy broadcasting; f32 with f64 gives f64.
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
Tensor relu(const Tensor& a);
/// a where a > 0, slope * a elsewhere.
Tensor leaky_relu(const Tensor& a, double slope = 0.01);
/// a limited to [lo, hi]; the gradient passes where lo <= a <= hi.
Tensor clamp(const Tensor& a, double lo, double hi);
/// Elementwise larger of a and b; a tie sends half the gradient to each, as in PyTorch.
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);

// Comparisons with broadcasting: 0 or 1 in the inputs' (promoted) dtype, never recorded.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);

// Reductions; a full reduction gives a 0-D tensor.
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

// Shapes. Every dim argument may be negative, counting from the end.
/// Same data, new shape (one entry may be -1).
Tensor reshape(const Tensor& a, const Shape& shape);
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor squeeze(const Tensor& a, int64_t dim);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
/// `length` entries of `dim` starting at `start`.
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
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
/// Matrix product for 1-D/2-D operands, and batched for 3-D (a 2-D side is broadcast).
Tensor matmul(const Tensor& a, const Tensor& b);
/// x W^T + b in one fused GEMM (b may be undefined): the Linear layer's op.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

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
