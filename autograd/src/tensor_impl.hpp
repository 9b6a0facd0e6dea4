// TensorImpl: the storage, shape and autograd metadata behind every Tensor handle.
#pragma once

#include <memory>
#include <string>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {

struct Node;
struct LeafHooks;

struct TensorImpl {
  std::shared_ptr<void> storage;  // shared by reshape views of the same data
  void* data = nullptr;
  Shape shape;
  int64_t numel = 0;
  DType dtype = DType::f32;
  bool requires_grad = false;     // for leaves; a non-leaf requires grad through grad_fn
  Tensor grad;                    // accumulated by backward() into leaves
  std::shared_ptr<Node> grad_fn;  // the record that produced this tensor, if any
  // set_name's label, shown by format_tape and to_dot; out of line, so an unnamed tensor's
  // TensorImpl stays small enough for the allocator's fast bins.
  std::unique_ptr<std::string> name;
  std::shared_ptr<LeafHooks> hooks;  // post-accumulate-grad hooks of a leaf, if any

  TensorImpl() = default;
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl();
};

/// A tensor with fresh, uninitialised storage.
Tensor empty(const Shape& shape, DType dtype);

/// A tensor that shares `source`'s storage under another shape (same numel), with no history.
Tensor alias_with_shape(const Tensor& source, const Shape& shape);

/// Tensor::requires_grad() for the recording path, inline: the public one is a call.
inline bool wants_grad(const Tensor& t) {
  const TensorImpl* impl = t.impl();
  return impl != nullptr && (impl->requires_grad || impl->grad_fn != nullptr);
}

template <class T>
T* data_of(const Tensor& t) {
  return static_cast<T*>(t.impl()->data);
}

}  // namespace tg::detail
