// In-place writes (copy_, fill_, add_, mul_, clamp_, relu_, masked_fill_, index_put_, ...):
// plain writes that bump the storage's version, or, when autograd is recording, writes that
// give the tensor (and the base of a view) a new history, as PyTorch's.
#include <fmt/format.h>

#include <cstring>

#include "kernels.hpp"
#include "node.hpp"
#include "record.hpp"
#include "storage.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg {
namespace {

void check_defined(const Tensor& t, const char* op) {
  if (!t.defined())
    throw Error(
        fmt::format("{}: undefined tensor (a default-constructed Tensor, or a grad() that "
                    "no backward has reached yet)",
                    op));
}

// What kind of in-place op: copy_ and fill_ are setters, which set a leaf's values even
// outside NoGradGuard (how parameters are initialised and loaded).
enum class Kind { arithmetic, setter };

// True when the write must be recorded (grad mode on and the tensor, its base or an operand
// wants a gradient); throws where PyTorch refuses: a leaf that requires grad, or a view of one,
// outside NoGradGuard.
bool must_record(const Tensor& self, const char* op, std::initializer_list<const Tensor*> others,
                 Kind kind = Kind::arithmetic) {
  check_defined(self, op);
  if (!is_grad_enabled()) return false;
  const detail::TensorImpl& impl = *self.impl();
  const detail::TensorImpl* base = impl.base().get();
  if (impl.requires_grad && impl.grad_fn == nullptr) {
    if (kind == Kind::setter) return false;
    throw Error(fmt::format(
        "{}: a leaf Variable that requires grad is being used in an in-place operation (shape "
        "{}); do the update inside a tg::NoGradGuard, as optimizers do",
        op, format_shape(self.shape())));
  }
  if (base != nullptr && base->requires_grad && base->grad_fn == nullptr) {
    if (kind == Kind::setter) return false;
    throw Error(fmt::format(
        "{}: a view of a leaf Variable that requires grad is being used in an in-place "
        "operation (view of shape {}, leaf of shape {}); do the update inside a tg::NoGradGuard",
        op, format_shape(self.shape()), format_shape(base->shape)));
  }
  if (impl.grad_fn != nullptr) return true;
  if (base != nullptr && (base->requires_grad || base->grad_fn != nullptr)) return true;
  for (const Tensor* other : others)
    if (other->defined() && detail::wants_grad(*other)) return true;
  return false;
}

// PyTorch's refusal to write into a tensor where several elements share one memory location
// (an expand), whose result would depend on the order of the writes.
void check_no_overlap(const Tensor& self, const char* op) {
  const detail::TensorImpl& impl = *self.impl();
  const Shape& strides = impl.strides();
  for (size_t i = 0; i < strides.size(); ++i)
    if (strides[i] == 0 && impl.shape[i] > 1)
      throw Error(fmt::format(
          "{}: unsupported operation: more than one element of the written-to tensor (shape {}, "
          "strides {}) refers to a single memory location; clone() it first",
          op, format_shape(self.shape()), format_shape(strides)));
}

void bump_version(const Tensor& t) {
  detail::version_counter(t.impl()->storage).fetch_add(1, std::memory_order_relaxed);
}

// Writes `values` (self's shape, or broadcast to it) into self's elements and bumps the version.
void write_values(const Tensor& self, const Tensor& values) {
  const detail::TensorImpl& dst = *self.impl();
  const detail::TensorImpl& src = *values.impl();
  if (src.storage == dst.storage) {
    if (src.data == dst.data && src.shape == dst.shape && src.strides() == dst.strides() &&
        src.dtype == dst.dtype)
      return bump_version(self);
    // The source reads the elements being written: copy it out first.
    Tensor copy = detail::empty(values.shape(), values.dtype());
    detail::copy_values(copy, values);
    return write_values(self, copy);
  }
  if (!dst.strided && !src.strided && src.shape == dst.shape && src.dtype == dst.dtype)
    std::memcpy(dst.data, src.data, static_cast<size_t>(dst.numel * element_size(dst.dtype)));
  else
    detail::copy_values(self, values);
  bump_version(self);
}

// The refusal of a floating result for an i64 tensor.
void check_fits(const Tensor& self, const char* op, DType result) {
  if (self.dtype() == DType::i64 && result != DType::i64)
    throw Error(fmt::format(
        "{}: the result is {}, which the i64 tensor of shape {} cannot hold (use an integer "
        "operand, or convert with .to(tg::f32) first)",
        op, dtype_name(result), format_shape(self.shape())));
}

// Where each element of the view `view` sits in its contiguous base, row-major: i64 [numel].
Tensor positions_in_base(const Tensor& view, const Tensor& base, const char* op) {
  if (!base.is_contiguous())
    throw Error(fmt::format(
        "{}: an in-place write into a view of a non-contiguous tensor (shape {}) cannot be "
        "recorded; write into a contiguous() copy of it instead",
        op, format_shape(base.shape())));
  Tensor positions = detail::empty({view.numel()}, DType::i64);
  int64_t* idx = detail::data_of<int64_t>(positions);
  const int64_t start = view.storage_offset() - base.storage_offset();
  const Shape walk[1] = {view.strides()};
  detail::for_each_strided(view.shape(), walk,
                           [&](int64_t i, const int64_t* off) { idx[i] = start + off[0]; });
  return positions;
}

// PyTorch's CopySlices: after `result` was written into the view `self`, the base takes the
// history "old base with the view's elements replaced by result", and the view the history
// "those elements of the new base". Other views of the base keep their old history.
void copy_slices(const Tensor& self, const Tensor& result, const char* op) {
  detail::TensorImpl& view = *self.impl();
  const Tensor base(view.base());
  const Tensor positions = positions_in_base(self, base, op);
  Tensor old = detail::alias_with_shape(base, base.shape());  // the base's old history
  old.impl()->grad_fn = base.impl()->grad_fn;
  const int64_t n = base.numel();
  Tensor keep = ones({n}, {.dtype = base.dtype()});
  detail::dispatch(base.dtype(), [&]<class T>() {
    T* k = detail::data_of<T>(keep);
    const int64_t* idx = detail::data_of<int64_t>(positions);
    for (int64_t i = 0; i < positions.numel(); ++i) k[idx[i]] = T(0);
  });
  const Tensor merged =
      reshape(reshape(old, {-1}) * keep + scatter_add(zeros({n}, {.dtype = base.dtype()}), 0,
                                                      positions, reshape(result, {-1})),
              base.shape());
  base.impl()->grad_fn = merged.impl()->grad_fn;
  const Tensor reread = reshape(index_select(reshape(base, {-1}), 0, positions), self.shape());
  view.grad_fn = reread.impl()->grad_fn;
}

// The recorded form of an in-place op: result = compute(current values), written into self,
// whose history (and its base's, for a view) becomes result's.
template <class Compute>
Tensor& recorded_write(Tensor& self, const char* op, Compute compute) {
  check_no_overlap(self, op);
  // The op reads a copy of the current values, so that what it saves for its backward is not
  // the storage this write is about to change.
  const Tensor before = self.clone();
  Tensor result = compute(before);
  if (result.impl()->grad_fn == nullptr && detail::wants_grad(result))
    result = result.clone();  // a leaf's values (copy_): the history needs a record of its own
  if (!detail::wants_grad(result) && detail::wants_grad(before)) {
    // Constant values (fill_, copy_ of a constant): the old values get a zero gradient, and
    // the tensor keeps a history, as PyTorch's.
    Tensor alias = detail::alias_with_shape(result, result.shape());
    result = detail::record(op, alias, {&before}, [](const Tensor& g) -> Gradients {
      return {zeros(g.shape(), {.dtype = g.dtype()})};
    });
  }
  check_fits(self, op, result.dtype());
  if (result.dtype() != self.dtype()) result = result.to(self.dtype());
  if (result.shape() != self.shape()) result = expand(result, self.shape());
  write_values(self, result);
  detail::TensorImpl& impl = *self.impl();
  if (impl.base() != nullptr)
    copy_slices(self, result, op);
  else
    impl.grad_fn = result.impl()->grad_fn;
  return self;
}

// The plain form: compute the result without recording and write it.
template <class Compute>
Tensor& plain_write(Tensor& self, const char* op, Compute compute) {
  check_no_overlap(self, op);
  Tensor result;
  {
    NoGradGuard no_grad;
    result = compute(self);
  }
  check_fits(self, op, result.dtype());
  write_values(self, result);
  return self;
}

template <class Compute>
Tensor& in_place(Tensor& self, const char* op, std::initializer_list<const Tensor*> others,
                 Compute compute, Kind kind = Kind::arithmetic) {
  return must_record(self, op, others, kind) ? recorded_write(self, op, compute)
                                             : plain_write(self, op, compute);
}

// self[i] = f(self[i], other[i]) without a temporary, where that is the plain write's result
// element for element: self dense; other dense, of self's floating dtype, and of self's shape or
// one element; other either apart from self's storage, self itself, or one element (read before
// the loop writes). False, writing nothing, when it does not apply.
template <class F>
bool write_elementwise(const Tensor& self, const Tensor& other, F f) {
  const detail::TensorImpl& dst = *self.impl();
  const detail::TensorImpl& src = *other.impl();
  if (dst.strided || src.strided || dst.dtype != src.dtype || !is_floating(dst.dtype)) return false;
  const bool one = src.numel == 1;
  if (!one && src.shape != dst.shape) return false;
  if (src.storage == dst.storage && !one && src.data != dst.data) return false;
  detail::dispatch_floating("in-place", dst.dtype, [&]<class T>() {
    T* x = static_cast<T*>(dst.data);
    const int64_t n = dst.numel;
    if (one) {
      const T y = *static_cast<const T*>(src.data);
      detail::parallel_for(n, detail::kGrainCheap, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) x[i] = f(x[i], y);
      });
    } else {
      const T* y = static_cast<const T*>(src.data);
      detail::parallel_for(n, detail::kGrainCheap, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) x[i] = f(x[i], y[i]);
      });
    }
  });
  bump_version(self);
  return true;
}

// self = compute(self, other), with `other` broadcast into self's shape; unrecorded writes of
// one dtype go through write_elementwise with `f`, the op on two elements.
template <class Compute, class F>
Tensor& binary_in_place(Tensor& self, const char* op, const Tensor& other, Compute compute, F f) {
  check_defined(self, op);
  if (!other.defined())
    throw Error(fmt::format("{}: the other operand is an undefined tensor", op));
  if (detail::broadcast_shapes(op, self.shape(), other.shape()) != self.shape())
    throw Error(
        fmt::format("{}: an operand of shape {} does not broadcast into the tensor of "
                    "shape {} being written",
                    op, format_shape(other.shape()), format_shape(self.shape())));
  if (must_record(self, op, {&other}))
    return recorded_write(self, op, [&](const Tensor& current) { return compute(current); });
  if (write_elementwise(self, other, f)) return self;
  return plain_write(self, op, [&](const Tensor& current) { return compute(current); });
}

// A double operand: a 0-D tensor of self's dtype when floating, f32 when self is i64 (which the
// write then refuses, as PyTorch: the result type of an i64 tensor and a double is a float).
Tensor double_operand(const Tensor& self, double value) {
  return scalar(value, {.dtype = self.dtype() == DType::i64 ? DType::f32 : self.dtype()});
}

// `value` in every element of `like`'s shape and dtype.
Tensor filled_like(const Tensor& like, double value, const char* op) {
  if (like.dtype() == DType::i64 && !(value >= -0x1p63 && value < 0x1p63))
    throw Error(fmt::format("{}: {} cannot be converted to i64 without overflow", op, value));
  return full(like.shape(), value, {.dtype = like.dtype()});
}

template <class Sample>
Tensor& sample_in_place(Tensor& self, const char* op, Sample sample) {
  must_record(self, op, {});  // the refusals; the draw itself is never recorded
  check_no_overlap(self, op);
  detail::dispatch_floating(op, self.dtype(), [&]<class T>() {
    Tensor values = detail::empty(self.shape(), self.dtype());
    T* x = detail::data_of<T>(values);
    {
      random::GeneratorLock lock;  // one lock for the whole fill, as rand and randn take
      for (int64_t i = 0, end = self.numel(); i < end; ++i) x[i] = static_cast<T>(sample());
    }
    write_values(self, values);
  });
  return self;
}

// A mask broadcast into self's shape, or an Error naming `op`.
void check_mask(const Tensor& self, const Tensor& mask, const char* op) {
  check_defined(mask, op);
  if (detail::broadcast_shapes(op, self.shape(), mask.shape()) != self.shape())
    throw Error(fmt::format("{}: a mask of shape {} does not broadcast to the shape {}", op,
                            format_shape(mask.shape()), format_shape(self.shape())));
}

}  // namespace

Tensor& Tensor::copy_(const Tensor& source) {
  check_defined(*this, "copy_");
  check_defined(source, "copy_");
  // Broadcasting as PyTorch; a source of the same numel but another shape is read row-major
  // (tapegrad's older rule, kept).
  Tensor from = source;
  if (source.shape() != shape()) {
    const bool broadcasts = [&] {
      try {
        return detail::broadcast_shapes("copy_", shape(), source.shape()) == shape();
      } catch (const Error&) {
        return false;
      }
    }();
    if (!broadcasts && source.numel() != numel())
      throw Error(fmt::format("copy_: source of shape {} does not fit a tensor of shape {}",
                              format_shape(source.shape()), format_shape(shape())));
    if (!broadcasts) from = tg::reshape(source, shape());
  }
  return in_place(
      *this, "copy_", {&from},
      [&](const Tensor& /*current*/) { return from.dtype() == dtype() ? from : from.to(dtype()); },
      Kind::setter);
}

Tensor& Tensor::fill_(double value) {
  check_defined(*this, "fill_");
  return in_place(
      *this, "fill_", {},
      [&](const Tensor& current) { return filled_like(current, value, "fill_"); }, Kind::setter);
}

Tensor& Tensor::zero_() {
  check_defined(*this, "zero_");
  must_record(*this, "zero_", {});  // a leaf that requires grad refuses it (not a setter)
  return in_place(*this, "zero_", {},
                  [&](const Tensor& current) { return filled_like(current, 0.0, "zero_"); });
}

Tensor& Tensor::add_(const Tensor& other) {
  return binary_in_place(
      *this, "add_", other, [&](const Tensor& t) { return tg::add(t, other); },
      [](auto x, auto y) { return x + y; });
}
Tensor& Tensor::sub_(const Tensor& other) {
  return binary_in_place(
      *this, "sub_", other, [&](const Tensor& t) { return tg::sub(t, other); },
      [](auto x, auto y) { return x - y; });
}
Tensor& Tensor::mul_(const Tensor& other) {
  return binary_in_place(
      *this, "mul_", other, [&](const Tensor& t) { return tg::mul(t, other); },
      [](auto x, auto y) { return x * y; });
}
Tensor& Tensor::div_(const Tensor& other) {
  return binary_in_place(
      *this, "div_", other, [&](const Tensor& t) { return tg::div(t, other); },
      [](auto x, auto y) { return x / y; });
}
Tensor& Tensor::add_(double value) {
  must_record(*this, "add_", {});
  return add_(double_operand(*this, value));
}
Tensor& Tensor::sub_(double value) {
  must_record(*this, "sub_", {});
  return sub_(double_operand(*this, value));
}
Tensor& Tensor::mul_(double value) {
  must_record(*this, "mul_", {});
  return mul_(double_operand(*this, value));
}
Tensor& Tensor::div_(double value) {
  must_record(*this, "div_", {});
  return div_(double_operand(*this, value));
}

Tensor& Tensor::clamp_(double lo, double hi) {
  return in_place(*this, "clamp_", {}, [&](const Tensor& t) { return tg::clamp(t, lo, hi); });
}
Tensor& Tensor::pow_(double exponent) {
  return in_place(*this, "pow_", {}, [&](const Tensor& t) { return tg::pow(t, exponent); });
}
Tensor& Tensor::exp_() {
  return in_place(*this, "exp_", {}, [](const Tensor& t) { return tg::exp(t); });
}
Tensor& Tensor::relu_() {
  return in_place(*this, "relu_", {}, [](const Tensor& t) { return tg::relu(t); });
}
Tensor& Tensor::sigmoid_() {
  return in_place(*this, "sigmoid_", {}, [](const Tensor& t) { return tg::sigmoid(t); });
}
Tensor& Tensor::tanh_() {
  return in_place(*this, "tanh_", {}, [](const Tensor& t) { return tg::tanh(t); });
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, double value) {
  check_defined(a, "masked_fill");
  check_mask(a, mask, "masked_fill");
  if (a.dtype() == DType::i64 && !(value >= -0x1p63 && value < 0x1p63))
    throw Error(fmt::format("masked_fill: {} cannot be converted to i64 without overflow", value));
  return where(ne(mask, 0.0), scalar(value, {.dtype = a.dtype()}), a);
}

Tensor& Tensor::masked_fill_(const Tensor& mask, double value) {
  check_defined(*this, "masked_fill_");
  check_mask(*this, mask, "masked_fill_");
  return in_place(*this, "masked_fill_", {},
                  [&](const Tensor& t) { return tg::masked_fill(t, mask, value); });
}

Tensor& Tensor::index_put_(const std::vector<Tensor>& indices, const Tensor& values,
                           bool accumulate) {
  const char* op = "index_put_";
  check_defined(*this, op);
  check_defined(values, op);
  if (indices.empty() || static_cast<int64_t>(indices.size()) > dim())
    throw Error(fmt::format("{}: {} index tensors given for a tensor of shape {} (1 to {})", op,
                            indices.size(), format_shape(shape()), dim()));
  Shape index_shape = {};
  for (const Tensor& index : indices) {
    check_defined(index, op);
    if (index.dtype() != DType::i64)
      throw Error(fmt::format("{}: index tensors must be i64, got {} of shape {}", op,
                              dtype_name(index.dtype()), format_shape(index.shape())));
    index_shape = detail::broadcast_shapes(op, index_shape, index.shape());
  }
  // Each index position picks one row of the leading dims, flattened: rows[p].
  const auto k = indices.size();
  const Shape lead(shape().begin(), shape().begin() + static_cast<int64_t>(k));
  const Shape rest(shape().begin() + static_cast<int64_t>(k), shape().end());
  const int64_t lead_rows = shape_numel(lead), inner = shape_numel(rest);
  const int64_t count = shape_numel(index_shape);
  std::vector<int64_t> rows(static_cast<size_t>(count), 0);
  int64_t stride = 1;
  for (size_t j = k; j-- > 0;) {
    const Tensor index = tg::expand(indices[j], index_shape).contiguous();
    const int64_t* idx = detail::data_of<int64_t>(index);
    for (int64_t p = 0; p < count; ++p) {
      int64_t i = idx[p];
      if (i < -lead[j] || i >= lead[j])
        throw Error(fmt::format("{}: index {} is out of range for dim {} of shape {}", op, i, j,
                                format_shape(shape())));
      if (i < 0) i += lead[j];
      rows[static_cast<size_t>(p)] += i * stride;
    }
    stride *= lead[j];
  }
  Shape value_shape = index_shape;
  value_shape.insert(value_shape.end(), rest.begin(), rest.end());
  if (detail::broadcast_shapes(op, value_shape, values.shape()) != value_shape)
    throw Error(fmt::format("{}: values of shape {} do not broadcast to the indexed shape {}", op,
                            format_shape(values.shape()), format_shape(value_shape)));
  // Without accumulate, the last write to a row wins (PyTorch leaves the order unspecified).
  std::vector<int64_t> kept;
  std::vector<bool> seen(static_cast<size_t>(lead_rows), false);
  for (int64_t p = count; p-- > 0;) {
    const int64_t row = rows[static_cast<size_t>(p)];
    if (accumulate || !seen[static_cast<size_t>(row)]) kept.insert(kept.begin(), p);
    seen[static_cast<size_t>(row)] = true;
  }
  const auto n = static_cast<int64_t>(kept.size());
  Tensor picks = detail::empty({n}, DType::i64), targets = detail::empty({n, inner}, DType::i64);
  Tensor untouched = detail::empty({lead_rows, 1}, DType::i64);
  {
    int64_t* pk = detail::data_of<int64_t>(picks);
    int64_t* tg_rows = detail::data_of<int64_t>(targets);
    int64_t* u = detail::data_of<int64_t>(untouched);
    for (int64_t r = 0; r < lead_rows; ++r) u[r] = accumulate || !seen[static_cast<size_t>(r)];
    for (int64_t q = 0; q < n; ++q) {
      pk[q] = kept[static_cast<size_t>(q)];
      for (int64_t i = 0; i < inner; ++i) tg_rows[q * inner + i] = rows[static_cast<size_t>(pk[q])];
    }
  }
  const Shape full_shape = shape();
  return in_place(*this, op, {&values}, [&](const Tensor& current) {
    const Tensor flat = tg::reshape(current, {lead_rows, inner});
    const Tensor chosen = tg::index_select(
        tg::reshape(tg::expand(values.to(current.dtype()), value_shape), {count, inner}), 0, picks);
    const Tensor kept_rows = tg::where(untouched, flat, scalar(0.0, {.dtype = current.dtype()}));
    return tg::reshape(tg::scatter_add(kept_rows, 0, targets, chosen), full_shape);
  });
}

Tensor& Tensor::uniform_(double from, double to) {
  if (!(from <= to)) throw Error(fmt::format("uniform_: from {} must not exceed to {}", from, to));
  return sample_in_place(*this, "uniform_", [=] { return from + (to - from) * random::uniform(); });
}

Tensor& Tensor::normal_(double mean, double std) {
  if (!(std >= 0.0)) throw Error(fmt::format("normal_: std must be >= 0, got {}", std));
  return sample_in_place(*this, "normal_", [=] { return mean + std * random::normal(); });
}

Tensor& Tensor::operator=(const Tensor& other) && { return copy_(other); }
Tensor& Tensor::operator=(double value) && { return fill_(value); }

}  // namespace tg
