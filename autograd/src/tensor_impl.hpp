// TensorImpl: the storage, shape and autograd metadata behind every Tensor handle.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {

struct Node;
struct LeafHooks;

/// Where a view sits in its storage: kept out of line, as most tensors (every op's output) are
/// contiguous, start at their buffer's first element and view nothing, and then pay for no
/// more than a null pointer.
struct ViewInfo {
  // Element strides, kept only by a view that is not contiguous: empty means row-major.
  Shape strides;
  int64_t storage_offset = 0;  // in elements, from the buffer's first element
  // For a view made by a view op (select, transpose, ...): the tensor it views, itself never a
  // view (a view of a view keeps the first one's base), so that an in-place write into the
  // view can give the base its new history (PyTorch's CopySlices).
  std::shared_ptr<TensorImpl> base;
};

/// Frees a ViewInfo into the per-thread free lists.
struct ViewInfoDeleter {
  void operator()(ViewInfo* view) const noexcept;
};

struct TensorImpl {
  std::shared_ptr<void> storage;  // shared by every view of the same buffer
  void* data = nullptr;           // the first element: the buffer's start + storage_offset
  Shape shape;
  int64_t numel = 0;
  DType dtype = DType::f32;
  bool requires_grad = false;     // for leaves; a non-leaf requires grad through grad_fn
  bool strided = false;           // the elements are not row-major: strides() holds their layout
  Tensor grad;                    // accumulated by backward() into leaves
  std::shared_ptr<Node> grad_fn;  // the record that produced this tensor, if any
  // set_name's label, shown by format_tape and to_dot; out of line, so an unnamed tensor's
  // TensorImpl stays small enough for the allocator's fast bins.
  std::unique_ptr<std::string> name;
  std::shared_ptr<LeafHooks> hooks;                 // post-accumulate-grad hooks of a leaf, if any
  std::unique_ptr<ViewInfo, ViewInfoDeleter> view;  // null: offset 0, contiguous, no base

  TensorImpl() = default;
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl();

  /// The element strides of a non-contiguous tensor; empty when contiguous.
  const Shape& strides() const { return view ? view->strides : no_strides(); }
  /// The first element's place in the buffer, in elements.
  int64_t storage_offset() const { return view ? view->storage_offset : 0; }
  /// The tensor this one views (never itself a view), or null.
  const std::shared_ptr<TensorImpl>& base() const { return view ? view->base : no_base(); }
  /// Sets the geometry and base (strides empty for a contiguous layout).
  void set_view(Shape strides, int64_t storage_offset, std::shared_ptr<TensorImpl> base);

 private:
  static const Shape& no_strides();
  static const std::shared_ptr<TensorImpl>& no_base();
};

/// A tensor with fresh, uninitialised storage.
Tensor empty(const Shape& shape, DType dtype);

/// A tensor that shares `source`'s storage under another shape (same numel), with no history:
/// with `source`'s own shape any tensor, else a contiguous one.
Tensor alias_with_shape(const Tensor& source, const Shape& shape);

/// Row-major strides of `shape`.
Shape contiguous_strides(const Shape& shape);

/// True when elements of `shape` laid out with `strides` are row-major with no gaps (sizes of 1
/// and empty tensors put no constraint on their strides, as in PyTorch).
bool strides_are_contiguous(const Shape& shape, const Shape& strides);

/// The tensor's strides, computed for a contiguous tensor.
inline Shape strides_of(const TensorImpl& impl) {
  return impl.strided ? impl.strides() : contiguous_strides(impl.shape);
}

/// True when the tensor's elements are row-major with no gaps, so data_of may read them.
inline bool is_dense(const Tensor& t) { return !t.impl()->strided; }

/// A view of `source`'s storage with the given geometry (strides in elements, offset from the
/// buffer's first element), no history, and `source`'s base (or `source`) as its base.
Tensor make_view(const Tensor& source, const Shape& shape, const Shape& strides,
                 int64_t storage_offset);

/// `t` itself when contiguous, else an unrecorded contiguous copy of its values.
Tensor dense_copy(const Tensor& t);

/// `t` itself when contiguous or undefined (no copy, no reference count touched), else `holder`,
/// which this sets to an unrecorded contiguous copy: how a kernel reads a strided input.
inline const Tensor& dense_values(const Tensor& t, Tensor& holder) {
  if (t.impl() == nullptr || !t.impl()->strided) return t;
  holder = dense_copy(t);
  return holder;
}

/// Same, but the copy is recorded (gradient passes straight through), so an op may use it as
/// its input in place of `t`: what ops that read their inputs' raw data call first.
const Tensor& contiguous_input(const Tensor& t, Tensor& holder);

/// True when some defined tensor among `ts` is not contiguous: fused ops (losses,
/// normalisation) then call themselves again on contiguous_of each input.
inline bool any_strided(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts)
    if (t->impl() != nullptr && t->impl()->strided) return true;
  return false;
}

/// `t` when undefined or contiguous, else its recorded contiguous copy.
inline Tensor contiguous_of(const Tensor& t) {
  Tensor holder;
  return contiguous_input(t, holder);
}

/// Throws the error of a kernel handed a strided tensor (a tapegrad bug, never a user's).
[[noreturn]] void throw_not_dense(const Tensor& t);

/// Tensor::requires_grad() for the recording path, inline: the public one is a call.
inline bool wants_grad(const Tensor& t) {
  const TensorImpl* impl = t.impl();
  return impl != nullptr && (impl->requires_grad || impl->grad_fn != nullptr);
}

/// The raw elements of a contiguous tensor; every kernel reads and writes through this, so a
/// strided tensor that reached one without dense_values/contiguous_input is caught here.
template <class T>
T* data_of(const Tensor& t) {
  if (t.impl()->strided) [[unlikely]]
    throw_not_dense(t);
  return static_cast<T*>(t.impl()->data);
}

}  // namespace tg::detail
