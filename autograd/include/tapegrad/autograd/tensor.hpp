// tg::Tensor, a cheap shared handle to an n-dimensional array that can record its history.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/autograd/dtype.hpp"

namespace tg {

class Tensor;

namespace detail {
struct TensorImpl;
/// A 0-D tensor holding `value` in `like`'s dtype: the operand an integer scalar becomes, so
/// that an i64 tensor stays i64 and a floating one keeps its precision.
Tensor integer_operand(const Tensor& like, int64_t value);
}  // namespace detail

/// How backward() treats the graph it walks.
struct BackwardOptions {
  bool retain_graph = false;  ///< keep the graph so it can be walked again
  bool create_graph = false;  ///< record the backward itself, so gradients are differentiable
};

/// An n-dimensional array of f32, f64 or i64 with optional autograd history: a view of a
/// storage through sizes, strides and an offset. Copying a Tensor shares its data, as in
/// libtorch; the view ops (select, narrow, slice, transpose, permute, expand, diagonal, split,
/// chunk, unbind, view, reshape when it can, flatten, squeeze, unsqueeze, detach, as_strided)
/// share storage with their input, so a write through one is seen by the other.
///
///     tg::Tensor w = tg::zeros({3}, {.dtype = tg::f64, .requires_grad = true});
///     tg::Tensor loss = (w * w).sum();
///     loss.backward();            // w.grad() now holds 2w
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<detail::TensorImpl> impl);
  Tensor(const Tensor&) = default;
  Tensor(Tensor&&) noexcept = default;
  ~Tensor() = default;
  /// Assigning to a named tensor rebinds the handle, as in libtorch.
  Tensor& operator=(const Tensor&) & = default;
  Tensor& operator=(Tensor&&) & noexcept = default;
  /// Assigning to a temporary (`t[i] = other`) copies `other`'s values into its elements,
  /// broadcasting, as libtorch: copy_.
  Tensor& operator=(const Tensor& other) &&;
  /// `t[i] = 2.5` sets the elements of the temporary view t[i]: fill_.
  Tensor& operator=(double value) &&;

  /// False for a default-constructed handle, such as an absent gradient.
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  /// Size of dimension `dim` (negative counts from the end).
  int64_t size(int64_t dim) const;
  int64_t dim() const;
  int64_t numel() const;
  DType dtype() const;

  /// The single element as a double; throws unless numel() == 1.
  double item() const;
  /// The single element converted to T (float, double or int64_t), without a round trip through
  /// double, so an i64 beyond 2^53 comes back exact.
  template <class T>
  T item() const;
  /// Every element, row-major, as doubles.
  std::vector<double> to_vector() const;
  /// Element strides of each dimension (a contiguous tensor's are row-major).
  Shape strides() const;
  /// Where the first element sits in the storage, in elements.
  int64_t storage_offset() const;
  /// True when the elements lie row-major with no gaps (sizes of 1 put no constraint).
  bool is_contiguous() const;
  /// The tensor itself when contiguous, else a contiguous copy (differentiable).
  Tensor contiguous() const;
  /// A view of the storage with these sizes, strides (in elements) and storage offset (from the
  /// storage's first element); it may only read elements of the tensor it views' storage.
  Tensor as_strided(const Shape& sizes, const Shape& strides, int64_t storage_offset = 0) const;
  /// The first element of this contiguous tensor (a tg::Error for a non-contiguous view: call
  /// contiguous() first); T must match dtype() (float, double or int64_t).
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  /// A copy converted to `dtype`; differentiable between f32 and f64.
  Tensor to(DType dtype) const;
  /// A copy with its own storage; differentiable.
  Tensor clone() const;

  bool requires_grad() const;
  /// Marks a leaf as wanting gradients (throws for i64 and for non-leaves).
  Tensor& set_requires_grad(bool requires_grad = true);
  /// The gradient accumulated by backward() into this leaf (or into a non-leaf that called
  /// retain_grad()); undefined until one reaches it.
  Tensor grad() const;
  /// Makes backward() keep this non-leaf tensor's gradient in grad(), summed over backward calls
  /// as a leaf's, as PyTorch's retain_grad(); a no-op on a leaf. Throws tg::Error for a tensor
  /// that does not require grad.
  Tensor& retain_grad();
  /// True for a non-leaf after retain_grad() (PyTorch's retains_grad).
  bool retains_grad() const;
  /// Drops the accumulated gradient (grad() becomes undefined).
  void zero_grad();
  /// Labels this tensor for format_tape and to_dot ("a", "loss"); names nothing else.
  Tensor& set_name(std::string name);
  /// The label given by set_name, or "".
  std::string name() const;
  /// The gradient slot itself, to assign or replace a leaf's gradient (as libtorch's
  /// mutable_grad()); the engine accumulates into whatever it holds.
  Tensor& mutable_grad();
  /// True for tensors with no recorded history (created by the user or detached).
  bool is_leaf() const;
  /// Same data, no history, no gradient.
  Tensor detach() const;
  /// Backpropagates from this scalar, accumulating into the leaves' grad().
  void backward(const BackwardOptions& options = {}) const;
  /// Backpropagates with `grad_output` as d(something)/d(this), for non-scalar outputs.
  void backward(const Tensor& grad_output, const BackwardOptions& options = {}) const;

  /// How many in-place writes this tensor's storage has had (PyTorch's `_version`). A backward
  /// that needs a tensor saved at an older version throws instead of using the new values.
  uint64_t version() const;
  /// Records an in-place write made through data<T>() (an optimizer step, a loader filling a
  /// tensor), so that backward refuses tensors saved before it. Every in-place member below
  /// calls it already.
  void mark_modified();

  // In-place writes: never recorded, each bumps version(). copy_ and fill_ are plain setters
  // that work on any tensor (parameters are set with them). The arithmetic ones, clamp_, zero_,
  // uniform_ and normal_ follow PyTorch: a leaf that requires grad refuses them unless a
  // NoGradGuard is alive. A tensor computed by a recorded op refuses them always (PyTorch would
  // record the write instead; tapegrad keeps the simpler rule that a recorded value never
  // changes). The other operand broadcasts into this tensor's shape, and the result must fit
  // its dtype (an i64 tensor takes integers only).

  /// Copies `source`'s values into this tensor's storage (same numel, any dtype).
  Tensor& copy_(const Tensor& source);
  /// Sets every element to `value`.
  Tensor& fill_(double value);
  /// Sets every element to 0.
  Tensor& zero_();
  /// this += other (broadcast into this tensor's shape).
  Tensor& add_(const Tensor& other);
  Tensor& add_(double value);
  /// this -= other.
  Tensor& sub_(const Tensor& other);
  Tensor& sub_(double value);
  /// this *= other.
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(double value);
  /// this /= other (true division: a floating tensor only).
  Tensor& div_(const Tensor& other);
  Tensor& div_(double value);
  /// An integer scalar keeps an i64 tensor i64, as `t.add_(1)` in PyTorch.
  template <std::integral I>
  Tensor& add_(I value) {
    return add_(detail::integer_operand(*this, static_cast<int64_t>(value)));
  }
  template <std::integral I>
  Tensor& sub_(I value) {
    return sub_(detail::integer_operand(*this, static_cast<int64_t>(value)));
  }
  template <std::integral I>
  Tensor& mul_(I value) {
    return mul_(detail::integer_operand(*this, static_cast<int64_t>(value)));
  }
  template <std::integral I>
  Tensor& div_(I value) {
    return div_(detail::integer_operand(*this, static_cast<int64_t>(value)));
  }
  /// Limits every element to [lo, hi] (every element becomes hi when lo > hi, as clamp).
  Tensor& clamp_(double lo, double hi);
  /// this = this^exponent.
  Tensor& pow_(double exponent);
  /// this = exp(this).
  Tensor& exp_();
  /// this = max(this, 0).
  Tensor& relu_();
  /// this = sigmoid(this).
  Tensor& sigmoid_();
  /// this = tanh(this).
  Tensor& tanh_();
  /// Sets the elements where `mask` (broadcast to this shape) is non-zero to `value`.
  Tensor& masked_fill_(const Tensor& mask, double value);
  /// Writes `values` (broadcast) at the elements the i64 `indices` pick along the leading
  /// dims (one index tensor per dim, broadcast together), or adds them when `accumulate`
  /// (repeated indices then add up).
  Tensor& index_put_(const std::vector<Tensor>& indices, const Tensor& values,
                     bool accumulate = false);
  /// Compound assignment: add_, sub_, mul_, div_.
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator+=(double value) { return add_(value); }
  Tensor& operator-=(double value) { return sub_(value); }
  Tensor& operator*=(double value) { return mul_(value); }
  Tensor& operator/=(double value) { return div_(value); }
  template <std::integral I>
  Tensor& operator+=(I value) {
    return add_(value);
  }
  template <std::integral I>
  Tensor& operator-=(I value) {
    return sub_(value);
  }
  template <std::integral I>
  Tensor& operator*=(I value) {
    return mul_(value);
  }
  template <std::integral I>
  Tensor& operator/=(I value) {
    return div_(value);
  }
  /// Fills with samples of U[from, to) from the global generator (the draws of rand).
  Tensor& uniform_(double from = 0.0, double to = 1.0);
  /// Fills with samples of N(mean, std²) from the global generator (the draws of randn).
  Tensor& normal_(double mean = 0.0, double std = 1.0);
  /// Makes this handle (and every handle sharing it) hold `source`'s storage, shape and dtype,
  /// keeping its own requires_grad; used to convert or load parameters in place. Counts as an
  /// in-place write: tensors saved before it are refused by backward.
  void set_data(const Tensor& source);

  // Member forms of the common ops (see ops.hpp for each one's meaning).
  Tensor sum() const;
  Tensor sum(int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  Tensor min(int64_t dim, bool keepdim = false) const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;
  Tensor prod() const;
  Tensor var() const;
  Tensor var(int64_t dim, bool unbiased = true, bool keepdim = false) const;
  Tensor std() const;
  Tensor std(int64_t dim, bool unbiased = true, bool keepdim = false) const;
  Tensor norm(double p = 2.0) const;
  Tensor reshape(const Shape& shape) const;
  /// A view with another shape; throws when the strides do not allow one (use reshape).
  Tensor view(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor select(int64_t dim, int64_t index) const;
  /// select(0, index).
  Tensor operator[](int64_t index) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor permute(const Shape& dims) const;
  Tensor expand(const Shape& shape) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  /// The diagonal (offset > 0 above it) of the dims dim1 and dim2, as a view in the last dim.
  Tensor diagonal(int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1) const;
  /// The select views along `dim`.
  std::vector<Tensor> unbind(int64_t dim = 0) const;
  /// Elements where `mask` (broadcast to this shape) is non-zero set to `value`.
  Tensor masked_fill(const Tensor& mask, double value) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor gather(int64_t dim, const Tensor& index) const;
  Tensor matmul(const Tensor& other) const;
  Tensor pow(double exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor abs() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor clamp(double lo, double hi) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor logsumexp(int64_t dim, bool keepdim = false) const;

  /// The implementation object; for tapegrad's own code.
  detail::TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<detail::TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<detail::TensorImpl> impl_;
};

/// A copy of `values` (row-major) with `shape`.
Tensor tensor(std::vector<double> values, Shape shape, TensorOptions options = {});
/// A 1-D tensor of `values`.
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});
namespace detail {
Tensor index_tensor(std::vector<int64_t> values, Shape shape);
}  // namespace detail
/// An i64 tensor of `values` (row-major) with `shape`, for index tensors; taken only for an
/// explicit std::vector<int64_t>, so braced lists of numbers stay the floating form above.
template <class V>
requires std::same_as<V, std::vector<int64_t>> Tensor tensor(V values, Shape shape) {
  return detail::index_tensor(std::move(values), std::move(shape));
}
/// A 0-D tensor.
Tensor scalar(double value, TensorOptions options = {});
Tensor zeros(Shape shape, TensorOptions options = {});
Tensor ones(Shape shape, TensorOptions options = {});
Tensor full(Shape shape, double value, TensorOptions options = {});
/// 0, 1, ..., n-1 (i64 unless options say otherwise).
Tensor arange(int64_t n, TensorOptions options = {.dtype = DType::i64});
/// Samples of N(0, 1) from the global generator.
Tensor randn(Shape shape, TensorOptions options = {});
/// Samples of U[0, 1) from the global generator.
Tensor rand(Shape shape, TensorOptions options = {});
/// Integers uniform in [low, high), i64.
Tensor randint(int64_t low, int64_t high, Shape shape);
/// A random permutation of 0..n-1, i64.
Tensor randperm(int64_t n);
/// start, start + step, ... before `end`: ceil((end - start) / step) values (f32 unless told).
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
/// `steps` values evenly spaced from `start` to `end`, both included.
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
/// The n x n identity matrix.
Tensor eye(int64_t n, TensorOptions options = {});
// Tensors of t's shape and dtype, without history.
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
/// U[0, 1) samples; t must be floating.
Tensor rand_like(const Tensor& t);
/// N(0, 1) samples; t must be floating.
Tensor randn_like(const Tensor& t);

/// Seeds the global generator behind rand*, init, shuffling and dropout.
void manual_seed(uint64_t seed);
/// Sets the threads of every pool tapegrad uses (OpenBLAS's included): the most that one matrix
/// product may use. Products under 2^22 multiply-adds always run on one, which is faster there.
/// Throws tg::Error for n < 1, changing nothing.
void set_num_threads(int n);
int get_num_threads();

/// The values in PyTorch's layout, e.g. "tensor([[0.1000, 0.2000]], dtype=f64)": 4 decimals,
/// scientific notation when the magnitudes demand it, `...` beyond 1000 elements.
std::string to_string(const Tensor& t);
/// Writes to_string(t).
std::ostream& operator<<(std::ostream& out, const Tensor& t);

}  // namespace tg
