// tg::Tensor, a cheap shared handle to an n-dimensional array that can record its history.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/autograd/dtype.hpp"

namespace tg {

namespace detail {
struct TensorImpl;
}

/// How backward() treats the graph it walks.
struct BackwardOptions {
  bool retain_graph = false;  ///< keep the graph so it can be walked again
  bool create_graph = false;  ///< record the backward itself, so gradients are differentiable
};

/// A contiguous row-major array of f32, f64 or i64 with optional autograd history.
/// Copying a Tensor shares its data, as in libtorch.
///
///     tg::Tensor w = tg::zeros({3}, {.dtype = tg::f64, .requires_grad = true});
///     tg::Tensor loss = (w * w).sum();
///     loss.backward();            // w.grad() now holds 2w
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<detail::TensorImpl> impl);

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
  /// Every element, row-major, as doubles.
  std::vector<double> to_vector() const;
  /// The tensor's own storage; T must match dtype() (float, double or int64_t).
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
  /// The gradient accumulated by backward() into this leaf; undefined until one reaches it.
  Tensor grad() const;
  /// Drops the accumulated gradient (grad() becomes undefined).
  void zero_grad();
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

  /// Copies `source`'s values into this tensor's storage (same numel, any dtype); not recorded.
  Tensor& copy_(const Tensor& source);
  /// Sets every element to `value`; not recorded.
  Tensor& fill_(double value);
  /// Makes this handle (and every handle sharing it) hold `source`'s storage, shape and dtype,
  /// keeping its own requires_grad; used to convert or load parameters in place. Not recorded.
  void set_data(const Tensor& source);

  // Member forms of the common ops (see ops.hpp for each one's meaning).
  Tensor sum() const;
  Tensor sum(int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const { return reshape(shape); }
  Tensor flatten() const { return reshape({-1}); }
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
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

/// One tensor per input of an op's backward; an undefined one means "no gradient".
using Gradients = std::vector<Tensor>;

/// A copy of `values` (row-major) with `shape`.
Tensor tensor(std::vector<double> values, Shape shape, TensorOptions options = {});
/// A 1-D tensor of `values`.
Tensor tensor(std::initializer_list<double> values, TensorOptions options = {});
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
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);

/// Seeds the global generator behind rand*, init, shuffling and dropout.
void manual_seed(uint64_t seed);
/// Sets the threads of every pool tapegrad uses (OpenBLAS's included): the most that one matrix
/// product may use. Products under 2^22 multiply-adds always run on one, which is faster there.
void set_num_threads(int n);
int get_num_threads();

/// The values with their shape and dtype, e.g. "tensor([[1, 2], [3, 4]], f32)".
std::string to_string(const Tensor& t);

}  // namespace tg
