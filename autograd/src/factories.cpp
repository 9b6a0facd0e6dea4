// Functions that create tensors: from values, constants, ranges and the global generator.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels.hpp"
#include "storage.hpp"
#include "tapegrad/autograd/random.hpp"

namespace tg {
namespace {

// PyTorch refuses to make an integer tensor from NaN, Inf or a value out of range; the cast
// would be undefined behaviour.
void check_integral(const char* op, double value, DType dtype) {
  if (dtype == DType::i64 && !(value >= -0x1p63 && value < 0x1p63))
    throw Error(fmt::format("{}: {} cannot be converted to i64 without overflow", op, value));
}

// A fresh tensor for `op`, whose name a bad shape's error carries.
Tensor fresh(const char* op, const Shape& shape, DType dtype) {
  for (int64_t size : shape)
    if (size < 0)
      throw Error(fmt::format("{}: negative size in shape {}", op, format_shape(shape)));
  const detail::AllocationSite site(op);  // a failed allocation names the factory
  return detail::empty(shape, dtype);
}

Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad) t.set_requires_grad(true);
  return t;
}

Tensor filled(const char* op, const Shape& shape, double value, const TensorOptions& options) {
  check_integral(op, value, options.dtype);
  Tensor t = fresh(op, shape, options.dtype);
  detail::dispatch(options.dtype, [&]<class T>() {  // not fill_: a new tensor is at version 0
    T* x = detail::data_of<T>(t);
    const T v = static_cast<T>(value);
    for (int64_t i = 0, end = t.numel(); i < end; ++i) x[i] = v;
  });
  return finish(std::move(t), options);
}

template <class Sample>
Tensor sampled(const char* op, const Shape& shape, const TensorOptions& options, Sample sample) {
  Tensor t = fresh(op, shape, options.dtype);
  random::GeneratorLock lock;  // one lock for the whole fill, not one per draw
  detail::dispatch(options.dtype, [&]<class T>() {
    T* x = detail::data_of<T>(t);
    for (int64_t i = 0, end = t.numel(); i < end; ++i) x[i] = static_cast<T>(sample());
  });
  return finish(std::move(t), options);
}

}  // namespace

Tensor tensor(std::vector<double> values, Shape shape, TensorOptions options) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw Error(fmt::format("tensor: {} values do not fill shape {} ({} elements)", values.size(),
                            format_shape(shape), shape_numel(shape)));
  for (double value : values) check_integral("tensor", value, options.dtype);
  Tensor t = fresh("tensor", shape, options.dtype);
  detail::dispatch(options.dtype, [&]<class T>() {
    T* x = detail::data_of<T>(t);
    for (size_t i = 0; i < values.size(); ++i) x[i] = static_cast<T>(values[i]);
  });
  return finish(std::move(t), options);
}

namespace detail {
Tensor index_tensor(std::vector<int64_t> values, Shape shape) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    throw Error(fmt::format("tensor: {} values do not fill shape {} ({} elements)", values.size(),
                            format_shape(shape), shape_numel(shape)));
  Tensor t = fresh("tensor", shape, DType::i64);
  std::copy(values.begin(), values.end(), data_of<int64_t>(t));
  return t;
}
}  // namespace detail

Tensor tensor(std::initializer_list<double> values, TensorOptions options) {
  return tensor(std::vector<double>(values), {static_cast<int64_t>(values.size())}, options);
}

Tensor scalar(double value, TensorOptions options) { return filled("scalar", {}, value, options); }
Tensor zeros(Shape shape, TensorOptions options) { return filled("zeros", shape, 0.0, options); }
Tensor ones(Shape shape, TensorOptions options) { return filled("ones", shape, 1.0, options); }
Tensor full(Shape shape, double value, TensorOptions options) {
  return filled("full", shape, value, options);
}
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {.dtype = t.dtype()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {.dtype = t.dtype()}); }
Tensor full_like(const Tensor& t, double value) {
  return full(t.shape(), value, {.dtype = t.dtype()});
}
Tensor rand_like(const Tensor& t) {
  detail::dispatch_floating("rand_like", t.dtype(), []<class T>() {});
  return rand(t.shape(), {.dtype = t.dtype()});
}
Tensor randn_like(const Tensor& t) {
  detail::dispatch_floating("randn_like", t.dtype(), []<class T>() {});
  return randn(t.shape(), {.dtype = t.dtype()});
}

Tensor arange(int64_t n, TensorOptions options) {
  if (n < 0) throw Error(fmt::format("arange: n must be >= 0, got {}", n));
  int64_t next = 0;
  return sampled("arange", {n}, options, [&] { return next++; });
}

Tensor arange(double start, double end, double step, TensorOptions options) {
  if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
    throw Error(
        fmt::format("arange: start {}, end {} and step {} must be finite", start, end, step));
  if (step == 0.0)
    throw Error(fmt::format("arange: step must be nonzero (start {}, end {})", start, end));
  if ((step > 0 && end < start) || (step < 0 && end > start))
    throw Error(fmt::format("arange: step {} goes away from end {} (start {})", step, end, start));
  // PyTorch's length rule: ceil((end - start) / step) values, each start + i·step.
  const double count = std::ceil((end - start) / step);
  if (!(count < 0x1p62))
    throw Error(
        fmt::format("arange: [{}, {}) in steps of {} has too many values", start, end, step));
  check_integral("arange", start, options.dtype);
  check_integral("arange", end, options.dtype);
  int64_t i = 0;
  return sampled("arange", {static_cast<int64_t>(count)}, options,
                 [&] { return start + static_cast<double>(i++) * step; });
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  if (steps < 0) throw Error(fmt::format("linspace: steps must be >= 0, got {}", steps));
  if (!std::isfinite(start) || !std::isfinite(end))
    throw Error(fmt::format("linspace: start {} and end {} must be finite", start, end));
  // As PyTorch: the first half counts up from start and the second down from end, so both ends
  // are exact.
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
  int64_t i = 0;
  return sampled("linspace", {steps}, options, [&] {
    const int64_t k = i++;
    return k < steps / 2 || steps == 1 ? start + step * static_cast<double>(k)
                                       : end - step * static_cast<double>(steps - 1 - k);
  });
}

Tensor eye(int64_t n, TensorOptions options) {
  if (n < 0) throw Error(fmt::format("eye: n must be >= 0, got {}", n));
  Tensor t = zeros({n, n}, {.dtype = options.dtype});
  detail::dispatch(options.dtype, [&]<class T>() {
    T* x = detail::data_of<T>(t);
    for (int64_t i = 0; i < n; ++i) x[i * n + i] = T(1);
  });
  return finish(std::move(t), options);
}

Tensor randn(Shape shape, TensorOptions options) {
  detail::dispatch_floating("randn", options.dtype, []<class T>() {});
  return sampled("randn", shape, options, [] { return random::normal(); });
}

Tensor rand(Shape shape, TensorOptions options) {
  detail::dispatch_floating("rand", options.dtype, []<class T>() {});
  return sampled("rand", shape, options, [] { return random::uniform(); });
}

Tensor randint(int64_t low, int64_t high, Shape shape) {
  if (high <= low) throw Error(fmt::format("randint: empty range [{}, {})", low, high));
  const auto span = static_cast<uint64_t>(high - low);
  return sampled("randint", shape, {.dtype = DType::i64},
                 [&] { return low + static_cast<int64_t>(random::below(span)); });
}

Tensor randperm(int64_t n) {
  Tensor t = arange(n);
  int64_t* x = detail::data_of<int64_t>(t);
  random::GeneratorLock lock;
  for (int64_t i = n - 1; i > 0; --i)  // Fisher-Yates
    std::swap(x[i], x[static_cast<int64_t>(random::below(static_cast<uint64_t>(i + 1)))]);
  return t;
}

}  // namespace tg
