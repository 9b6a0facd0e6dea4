// Strided geometry: contiguity, views of a storage, and the copy between any two layouts that
// every strided read (a kernel's dense copy) and write (copy_, fill_, in-place ops) goes through.
#include <fmt/format.h>

#include "kernels.hpp"
#include "record.hpp"
#include "small_blocks.hpp"

namespace tg::detail {

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

bool strides_are_contiguous(const Shape& shape, const Shape& strides) {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 0) return true;
    if (shape[i] == 1) continue;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

void ViewInfoDeleter::operator()(ViewInfo* view) const noexcept {
  view->~ViewInfo();
  free_small_block(view, sizeof(ViewInfo));
}

const Shape& TensorImpl::no_strides() {
  static const Shape none;
  return none;
}

const std::shared_ptr<TensorImpl>& TensorImpl::no_base() {
  static const std::shared_ptr<TensorImpl> none;
  return none;
}

void TensorImpl::set_view(Shape strides, int64_t storage_offset, std::shared_ptr<TensorImpl> base) {
  strided = !strides.empty();
  if (!strided && storage_offset == 0 && base == nullptr) {
    view.reset();
    return;
  }
  if (!view) view.reset(new (allocate_small_block(sizeof(ViewInfo))) ViewInfo());
  view->strides = std::move(strides);
  view->storage_offset = storage_offset;
  view->base = std::move(base);
}

Tensor make_view(const Tensor& source, const Shape& shape, const Shape& strides,
                 int64_t storage_offset) {
  const TensorImpl& from = *source.impl();
  auto impl = std::allocate_shared<TensorImpl>(SmallBlockAllocator<TensorImpl>{});
  impl->storage = from.storage;
  const int64_t element = element_size(from.dtype);
  impl->data =
      static_cast<std::byte*>(from.data) + (storage_offset - from.storage_offset()) * element;
  impl->shape = shape;
  impl->numel = shape_numel(shape);
  impl->dtype = from.dtype;
  impl->set_view(strides_are_contiguous(shape, strides) ? Shape() : strides, storage_offset,
                 from.base() ? from.base() : source.impl_ptr());
  return Tensor(std::move(impl));
}

void throw_not_dense(const Tensor& t) {
  throw Error(fmt::format(
      "internal error: a kernel was handed a non-contiguous tensor of shape {} (strides {}); "
      "please report it, and call contiguous() on the input meanwhile",
      format_shape(t.shape()), format_shape(t.impl()->strides())));
}

Shape broadcast_strides_of(const TensorImpl& t, const Shape& target) {
  Shape strides(target.size(), 0);
  const Shape own = strides_of(t);
  const size_t lead = target.size() - t.shape.size();
  for (size_t i = 0; i < t.shape.size(); ++i) strides[lead + i] = t.shape[i] == 1 ? 0 : own[i];
  return strides;
}

void copy_values(const Tensor& dst, const Tensor& src) {
  const TensorImpl& d = *dst.impl();
  const TensorImpl& s = *src.impl();
  const Shape walk[2] = {strides_of(d), broadcast_strides_of(s, d.shape)};
  dispatch(d.dtype, [&]<class To>() {
    dispatch(s.dtype, [&]<class From>() {
      To* o = static_cast<To*>(d.data);
      const From* x = static_cast<const From*>(s.data);
      for_each_strided(d.shape, walk, [&](int64_t /*i*/, const int64_t* off) {
        o[off[0]] = convert_element<To>(x[off[1]]);
      });
    });
  });
}

Tensor dense_copy(const Tensor& t) {
  if (!t.impl()->strided) return t;
  Tensor out = empty(t.shape(), t.dtype());
  copy_values(out, t);
  return out;
}

// d contiguous(a)/da = 1
const Tensor& contiguous_input(const Tensor& t, Tensor& holder) {
  if (t.impl() == nullptr || !t.impl()->strided) return t;
  holder =
      record("contiguous", dense_copy(t), {&t}, [](const Tensor& g) -> Gradients { return {g}; });
  return holder;
}

}  // namespace tg::detail
