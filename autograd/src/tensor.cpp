// Tensor's members: accessors, autograd state, in-place setters and the member forms of ops.
#include "tapegrad/autograd/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels.hpp"
#include "node.hpp"
#include "storage.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace detail {

Tensor empty(const Shape& shape, DType dtype) {
  for (int64_t s : shape)
    if (s < 0) throw Error(fmt::format("negative size in shape {}", format_shape(shape)));
  auto impl = std::allocate_shared<TensorImpl>(SmallBlockAllocator<TensorImpl>{});
  impl->shape = shape;
  impl->numel = shape.empty() ? 1 : shape_numel(shape);
  int64_t bytes = 0;
  if (__builtin_mul_overflow(impl->numel, element_size(dtype), &bytes))
    throw Error(
        fmt::format("shape {} needs more bytes than an int64 can count", format_shape(shape)));
  impl->dtype = dtype;
  Storage storage = allocate_storage(static_cast<size_t>(bytes), shape, dtype);
  impl->storage = std::move(storage.owner);
  impl->data = storage.data;
  return Tensor(std::move(impl));
}

Tensor alias_with_shape(const Tensor& source, const Shape& shape) {
  const TensorImpl& from = *source.impl();
  auto impl = std::allocate_shared<TensorImpl>(SmallBlockAllocator<TensorImpl>{});
  impl->storage = from.storage;
  impl->data = from.data;
  // With the same shape the same layout; else the caller checked that `source` is contiguous.
  if (from.view)
    impl->set_view(shape == from.shape ? from.strides() : Shape(), from.storage_offset(), nullptr);
  impl->shape = shape;
  impl->numel = from.numel;
  impl->dtype = from.dtype;
  return Tensor(std::move(impl));
}

TensorImpl::~TensorImpl() { release_node(std::move(grad_fn)); }

}  // namespace detail

namespace {

const detail::TensorImpl& checked(const detail::TensorImpl* impl, const char* what) {
  if (impl == nullptr)
    throw Error(fmt::format(
        "{}: undefined tensor (a default-constructed Tensor, or the grad() of a tensor that no "
        "backward has reached yet: is requires_grad set on it, and has backward() run?)",
        what));
  return *impl;
}

const char* cpp_type_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "float";
    case DType::f64:
      return "double";
    case DType::i64:
      break;
  }
  return "int64_t";
}

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  if constexpr (std::is_same_v<T, double>) return DType::f64;
  return DType::i64;
}

}  // namespace

Tensor::Tensor(std::shared_ptr<detail::TensorImpl> impl) : impl_(std::move(impl)) {}

const Shape& Tensor::shape() const { return checked(impl_.get(), "shape").shape; }
int64_t Tensor::dim() const { return static_cast<int64_t>(shape().size()); }
int64_t Tensor::numel() const { return checked(impl_.get(), "numel").numel; }
DType Tensor::dtype() const { return checked(impl_.get(), "dtype").dtype; }

int64_t Tensor::size(int64_t d) const {
  const int64_t i = detail::canonical_dim("size", d, dim(), shape());
  return shape()[static_cast<size_t>(i)];
}

double Tensor::item() const {
  checked(impl_.get(), "item");
  if (numel() != 1)
    throw Error(fmt::format("item: a tensor of shape {} has {} elements, not 1",
                            format_shape(shape()), numel()));
  // The one element is the first one whatever the strides.
  return detail::dispatch(
      dtype(), [&]<class T>() { return static_cast<double>(*static_cast<const T*>(impl_->data)); });
}

template <class T>
T Tensor::item() const {
  item();  // the same checks and message
  return detail::dispatch(dtype(), [&]<class U>() {
    return detail::convert_element<T>(*static_cast<const U*>(impl_->data));
  });
}

template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;

std::vector<double> Tensor::to_vector() const {
  checked(impl_.get(), "to_vector");
  std::vector<double> values(static_cast<size_t>(numel()));
  Tensor holder;
  const Tensor& dense = detail::dense_values(*this, holder);
  detail::dispatch(dtype(), [&]<class T>() {
    const T* x = static_cast<const T*>(dense.impl()->data);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(x[i]);
  });
  return values;
}

template <class T>
T* Tensor::data() {
  checked(impl_.get(), "data");
  if (dtype() != dtype_of<T>())
    throw Error(fmt::format("data<{}>(): the tensor of shape {} is {}, not {} (use data<{}>())",
                            cpp_type_name(dtype_of<T>()), format_shape(shape()),
                            dtype_name(dtype()), dtype_name(dtype_of<T>()),
                            cpp_type_name(dtype())));
  if (impl_->strided)
    throw Error(fmt::format(
        "data<{}>(): the tensor of shape {} is a non-contiguous view (strides {}); call "
        "contiguous() first for a tensor whose elements lie row-major in memory",
        cpp_type_name(dtype()), format_shape(shape()), format_shape(impl_->strides())));
  return static_cast<T*>(impl_->data);
}

template <class T>
const T* Tensor::data() const {
  return const_cast<Tensor*>(this)->data<T>();
}

template float* Tensor::data<float>();
template double* Tensor::data<double>();
template int64_t* Tensor::data<int64_t>();
template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const int64_t* Tensor::data<int64_t>() const;

bool Tensor::requires_grad() const {
  return impl_ != nullptr && (impl_->requires_grad || impl_->grad_fn != nullptr);
}

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  checked(impl_.get(), "set_requires_grad");
  if (impl_->grad_fn)
    throw Error(
        "set_requires_grad: only leaves can be marked; this tensor was computed by an op "
        "(call detach() first)");
  if (requires_grad && dtype() == DType::i64)
    throw Error(
        fmt::format("set_requires_grad: an i64 tensor of shape {} cannot require grad; "
                    "only f32 and f64 tensors have gradients",
                    format_shape(shape())));
  impl_->requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return checked(impl_.get(), "grad").grad; }

Tensor& Tensor::mutable_grad() {
  checked(impl_.get(), "mutable_grad");
  return impl_->grad;
}

void Tensor::zero_grad() {
  checked(impl_.get(), "zero_grad");
  impl_->grad = Tensor();
}

Tensor& Tensor::retain_grad() {
  const detail::TensorImpl& impl = checked(impl_.get(), "retain_grad");
  if (!impl.grad_fn) {
    if (!impl.requires_grad)
      throw Error(
          fmt::format("retain_grad: the tensor of shape {} does not require grad, so no "
                      "gradient will reach it",
                      format_shape(impl.shape)));
    return *this;  // a leaf keeps its gradient anyway
  }
  std::weak_ptr<detail::TensorImpl>& retained = impl.grad_fn->extras_for_write().retained_output;
  if (retained.expired()) retained = impl_;
  return *this;
}

bool Tensor::retains_grad() const {
  const detail::TensorImpl& impl = checked(impl_.get(), "retains_grad");
  return impl.grad_fn && impl.grad_fn->extras &&
         impl.grad_fn->extras->retained_output.lock() == impl_;
}

Tensor& Tensor::set_name(std::string name) {
  checked(impl_.get(), "set_name");
  if (impl_->grad_fn) impl_->grad_fn->extras_for_write().output_name = name;
  impl_->name = std::make_unique<std::string>(std::move(name));
  return *this;
}

std::string Tensor::name() const {
  const detail::TensorImpl& impl = checked(impl_.get(), "name");
  return impl.name ? *impl.name : std::string();
}

Shape Tensor::strides() const { return detail::strides_of(checked(impl_.get(), "strides")); }

int64_t Tensor::storage_offset() const {
  return checked(impl_.get(), "storage_offset").storage_offset();
}

bool Tensor::is_contiguous() const { return !checked(impl_.get(), "is_contiguous").strided; }

Tensor Tensor::contiguous() const {
  checked(impl_.get(), "contiguous");
  Tensor holder;
  return detail::contiguous_input(*this, holder);
}

bool Tensor::is_leaf() const { return checked(impl_.get(), "is_leaf").grad_fn == nullptr; }

// A view of the same elements, but neither recorded nor tied to a base: writes through it are
// not seen by autograd (only by the version counter), as PyTorch's detach.
Tensor Tensor::detach() const {
  checked(impl_.get(), "detach");
  return detail::alias_with_shape(*this, shape());
}

void Tensor::set_data(const Tensor& source) {
  checked(impl_.get(), "set_data");
  checked(source.impl(), "set_data");
  if (impl_->requires_grad && source.dtype() == DType::i64)
    throw Error("set_data: a tensor that requires grad cannot take i64 data");
  // Tensors saved from the old storage hold this impl: its new version must exceed every
  // version they saw, so the counter jumps past the old one.
  const uint64_t old_version = version();
  impl_->storage = source.impl()->storage;
  impl_->data = source.impl()->data;
  // Its own tensor now, not a view, even when `source` is one.
  impl_->set_view(source.impl()->strides(), source.impl()->storage_offset(), nullptr);
  impl_->shape = source.shape();
  impl_->numel = source.numel();
  impl_->dtype = source.dtype();
  impl_->grad = Tensor();
  detail::VersionCounter& counter = detail::version_counter(impl_->storage);
  uint64_t current = counter.load(std::memory_order_relaxed);
  while (!counter.compare_exchange_weak(current, std::max(current, old_version) + 1,
                                        std::memory_order_relaxed)) {
  }
}

uint64_t Tensor::version() const {
  return detail::version_counter(checked(impl_.get(), "version").storage)
      .load(std::memory_order_relaxed);
}

void Tensor::mark_modified() {
  detail::version_counter(checked(impl_.get(), "mark_modified").storage)
      .fetch_add(1, std::memory_order_relaxed);
}

Tensor Tensor::sum() const { return tg::sum(*this); }
Tensor Tensor::sum(int64_t d, bool keepdim) const { return tg::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return tg::mean(*this); }
Tensor Tensor::mean(int64_t d, bool keepdim) const { return tg::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return tg::max(*this); }
Tensor Tensor::max(int64_t d, bool keepdim) const { return tg::max(*this, d, keepdim); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return tg::argmax(*this, d, keepdim); }
Tensor Tensor::min() const { return tg::min(*this); }
Tensor Tensor::min(int64_t d, bool keepdim) const { return tg::min(*this, d, keepdim); }
Tensor Tensor::argmin(int64_t d, bool keepdim) const { return tg::argmin(*this, d, keepdim); }
Tensor Tensor::prod() const { return tg::prod(*this); }
Tensor Tensor::var() const { return tg::var(*this); }
Tensor Tensor::var(int64_t d, bool unbiased, bool keepdim) const {
  return tg::var(*this, d, unbiased, keepdim);
}
Tensor Tensor::std() const { return tg::std(*this); }
Tensor Tensor::std(int64_t d, bool unbiased, bool keepdim) const {
  return tg::std(*this, d, unbiased, keepdim);
}
Tensor Tensor::norm(double p) const { return tg::norm(*this, p); }
Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  return tg::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::select(int64_t d, int64_t index) const { return tg::select(*this, d, index); }
Tensor Tensor::operator[](int64_t index) const { return tg::select(*this, 0, index); }
Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  return tg::narrow(*this, d, start, length);
}
Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  return tg::slice(*this, d, start, end, step);
}
Tensor Tensor::permute(const Shape& dims) const { return tg::permute(*this, dims); }
Tensor Tensor::expand(const Shape& s) const { return tg::expand(*this, s); }
Tensor Tensor::reshape(const Shape& s) const { return tg::reshape(*this, s); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return tg::transpose(*this, d0, d1); }
Tensor Tensor::t() const {
  if (dim() != 2)
    throw Error(fmt::format("t: expects a 2-D tensor, got shape {}", format_shape(shape())));
  return tg::transpose(*this, 0, 1);
}
Tensor Tensor::diagonal(int64_t offset, int64_t d1, int64_t d2) const {
  return tg::diagonal(*this, offset, d1, d2);
}
std::vector<Tensor> Tensor::unbind(int64_t d) const { return tg::unbind(*this, d); }
Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  return tg::masked_fill(*this, mask, value);
}
Tensor Tensor::unsqueeze(int64_t d) const { return tg::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return tg::squeeze(*this, d); }
Tensor Tensor::index_select(int64_t d, const Tensor& index) const {
  return tg::index_select(*this, d, index);
}
Tensor Tensor::gather(int64_t d, const Tensor& index) const { return tg::gather(*this, d, index); }
Tensor Tensor::matmul(const Tensor& other) const { return tg::matmul(*this, other); }
Tensor Tensor::pow(double exponent) const { return tg::pow(*this, exponent); }
Tensor Tensor::exp() const { return tg::exp(*this); }
Tensor Tensor::log() const { return tg::log(*this); }
Tensor Tensor::sqrt() const { return tg::sqrt(*this); }
Tensor Tensor::abs() const { return tg::abs(*this); }
Tensor Tensor::tanh() const { return tg::tanh(*this); }
Tensor Tensor::sigmoid() const { return tg::sigmoid(*this); }
Tensor Tensor::relu() const { return tg::relu(*this); }
Tensor Tensor::clamp(double lo, double hi) const { return tg::clamp(*this, lo, hi); }
Tensor Tensor::softmax(int64_t d) const { return tg::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return tg::log_softmax(*this, d); }
Tensor Tensor::logsumexp(int64_t d, bool keepdim) const { return tg::logsumexp(*this, d, keepdim); }

}  // namespace tg
