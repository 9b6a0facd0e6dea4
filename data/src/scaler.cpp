// StandardScaler and MinMaxScaler: column statistics in double, applied row by row.
#include "tapegrad/data/scaler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "tapegrad/autograd/dispatch.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::data {
namespace {

void check_fit(const char* scaler, const Tensor& X) {
  if (!X.defined() || X.dim() != 2 || X.shape()[0] < 1 || X.shape()[1] < 1)
    throw Error(fmt::format("{}::fit: X must be [n, d] with n >= 1 and d >= 1, got {}", scaler,
                            X.defined() ? format_shape(X.shape()) : "an undefined tensor"));
}

void check_transform(const char* scaler, const char* op, const Tensor& X, size_t features) {
  if (features == 0)
    throw Error(
        fmt::format("{}::{}: the scaler has not been fitted; call fit() first", scaler, op));
  if (!X.defined() || X.dim() != 2 || X.shape()[1] != static_cast<int64_t>(features))
    throw Error(fmt::format("{}::{}: X must be [m, {}] as fitted, got {}", scaler, op, features,
                            X.defined() ? format_shape(X.shape()) : "an undefined tensor"));
}

// out[i][j] = (X[i][j] - shift[j]) / divisor[j] * multiply[j] + add[j] in X's floating dtype
// (i64 gives f64), computed in double.
Tensor affine(const Tensor& X, const std::vector<double>& shift, const std::vector<double>& divisor,
              const std::vector<double>& multiply, const std::vector<double>& add) {
  const DType dtype = is_floating(X.dtype()) ? X.dtype() : DType::f64;
  Tensor out = zeros(X.shape(), {.dtype = dtype});
  const size_t rows = static_cast<size_t>(X.shape()[0]);
  const size_t d = shift.size();
  tg::detail::dispatch(X.dtype(), [&]<class T>() {
    const T* x = X.data<T>();
    auto fill = [&](auto* o) {
      using Out = std::remove_pointer_t<decltype(o)>;
      for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < d; ++j) {
          const double value = static_cast<double>(x[i * d + j]);
          o[i * d + j] = static_cast<Out>((value - shift[j]) / divisor[j] * multiply[j] + add[j]);
        }
    };
    if (dtype == DType::f32)
      fill(out.data<float>());
    else
      fill(out.data<double>());
  });
  return out;
}

Tensor vector_tensor(const std::vector<double>& values) {
  return tensor(values, {static_cast<int64_t>(values.size())}, {.dtype = DType::f64});
}

}  // namespace

StandardScaler& StandardScaler::fit(const Tensor& X) {
  check_fit("StandardScaler", X);
  const size_t n = static_cast<size_t>(X.shape()[0]);
  const size_t d = static_cast<size_t>(X.shape()[1]);
  std::vector<double> mean(d, 0.0);
  std::vector<double> var(d, 0.0);
  std::vector<double> scale(d, 1.0);
  std::vector<bool> constant(d, true);
  tg::detail::dispatch(X.dtype(), [&]<class T>() {
    const T* x = X.data<T>();
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < d; ++j) {
        mean[j] += static_cast<double>(x[i * d + j]);
        if (x[i * d + j] != x[j]) constant[j] = false;
      }
    for (double& m : mean) m /= static_cast<double>(n);
    // Two passes: summing squared deviations from the mean loses far less than E[x²] - E[x]².
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < d; ++j) {
        const double deviation = static_cast<double>(x[i * d + j]) - mean[j];
        var[j] += deviation * deviation;
      }
  });
  for (size_t j = 0; j < d; ++j) {
    var[j] /= static_cast<double>(n);
    // A constant column is tested directly: its computed variance can be a rounding residue.
    if (constant[j]) var[j] = 0.0;
    scale[j] = var[j] > 0.0 ? std::sqrt(var[j]) : 1.0;
  }
  mean_ = std::move(mean);
  var_ = std::move(var);
  scale_ = std::move(scale);
  return *this;
}

Tensor StandardScaler::transform(const Tensor& X) const {
  check_transform("StandardScaler", "transform", X, mean_.size());
  const std::vector<double> ones(mean_.size(), 1.0);
  return affine(X, mean_, scale_, ones, std::vector<double>(mean_.size(), 0.0));
}

Tensor StandardScaler::fit_transform(const Tensor& X) { return fit(X).transform(X); }

Tensor StandardScaler::inverse_transform(const Tensor& X) const {
  check_transform("StandardScaler", "inverse_transform", X, mean_.size());
  const std::vector<double> ones(mean_.size(), 1.0);
  return affine(X, std::vector<double>(mean_.size(), 0.0), ones, scale_, mean_);
}

Tensor StandardScaler::mean() const { return vector_tensor(mean_); }
Tensor StandardScaler::var() const { return vector_tensor(var_); }
Tensor StandardScaler::scale() const { return vector_tensor(scale_); }

ElementMoments element_moments(const Tensor& X) {
  if (!X.defined() || !is_floating(X.dtype()) || X.numel() < 1)
    throw Error(fmt::format(
        "element_moments: X must be a non-empty f32 or f64 tensor, got {}",
        X.defined() ? fmt::format("{} {}", dtype_name(X.dtype()), format_shape(X.shape()))
                    : std::string("an undefined tensor")));
  ElementMoments moments;
  tg::detail::dispatch(X.dtype(), [&]<class T>() {
    const T* x = X.data<T>();
    const int64_t n = X.numel();
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += static_cast<double>(x[i]);
    moments.mean = total / static_cast<double>(n);
    // Squared deviations from the mean, as fit() does, rather than E[x²] - E[x]².
    double squares = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double deviation = static_cast<double>(x[i]) - moments.mean;
      squares += deviation * deviation;
    }
    moments.std = std::sqrt(squares / static_cast<double>(n));
  });
  return moments;
}

void standardize_(Tensor& X, double mean, double std) {
  if (!X.defined() || !is_floating(X.dtype()))
    throw Error(fmt::format(
        "standardize_: X must be an f32 or f64 tensor, got {}",
        X.defined() ? fmt::format("{} {}", dtype_name(X.dtype()), format_shape(X.shape()))
                    : std::string("an undefined tensor")));
  if (!X.is_leaf() || X.requires_grad())
    throw Error(fmt::format(
        "standardize_: X of shape {} {}; standardise the data before it enters a graph, or "
        "X.detach().clone()",
        format_shape(X.shape()), X.is_leaf() ? "requires grad" : "was computed by a recorded op"));
  if (!(std > 0 && std::isfinite(std)) || !std::isfinite(mean))
    throw Error(fmt::format(
        "standardize_: mean must be finite and std positive and finite, got mean {} and std {} "
        "(X of shape {})",
        mean, std, format_shape(X.shape())));
  auto apply = [&](auto* x) {
    using T = std::remove_pointer_t<decltype(x)>;
    // In X's dtype, as (X - mean) / std computes it out of place.
    const T shift = static_cast<T>(mean);
    const T divisor = static_cast<T>(std);
    for (int64_t i = 0, end = X.numel(); i < end; ++i) x[i] = (x[i] - shift) / divisor;
  };
  if (X.dtype() == DType::f32)
    apply(X.data<float>());
  else
    apply(X.data<double>());
  X.mark_modified();
}

MinMaxScaler::MinMaxScaler(double low, double high) : low_(low), high_(high) {
  if (!(low < high))
    throw Error(
        fmt::format("MinMaxScaler: the feature range needs low < high, got [{}, {}]", low, high));
}

MinMaxScaler& MinMaxScaler::fit(const Tensor& X) {
  check_fit("MinMaxScaler", X);
  const size_t n = static_cast<size_t>(X.shape()[0]);
  const size_t d = static_cast<size_t>(X.shape()[1]);
  std::vector<double> low(d);
  std::vector<double> high(d);
  tg::detail::dispatch(X.dtype(), [&]<class T>() {
    const T* x = X.data<T>();
    for (size_t j = 0; j < d; ++j) low[j] = high[j] = static_cast<double>(x[j]);
    for (size_t i = 1; i < n; ++i)
      for (size_t j = 0; j < d; ++j) {
        low[j] = std::min(low[j], static_cast<double>(x[i * d + j]));
        high[j] = std::max(high[j], static_cast<double>(x[i * d + j]));
      }
  });
  std::vector<double> range(d);
  for (size_t j = 0; j < d; ++j) range[j] = high[j] > low[j] ? high[j] - low[j] : 1.0;
  data_min_ = std::move(low);
  data_max_ = std::move(high);
  range_ = std::move(range);
  return *this;
}

Tensor MinMaxScaler::transform(const Tensor& X) const {
  check_transform("MinMaxScaler", "transform", X, data_min_.size());
  const std::vector<double> width(range_.size(), high_ - low_);
  return affine(X, data_min_, range_, width, std::vector<double>(range_.size(), low_));
}

Tensor MinMaxScaler::fit_transform(const Tensor& X) { return fit(X).transform(X); }

Tensor MinMaxScaler::inverse_transform(const Tensor& X) const {
  check_transform("MinMaxScaler", "inverse_transform", X, data_min_.size());
  const std::vector<double> width(range_.size(), high_ - low_);
  return affine(X, std::vector<double>(range_.size(), low_), width, range_, data_min_);
}

Tensor MinMaxScaler::data_min() const { return vector_tensor(data_min_); }
Tensor MinMaxScaler::data_max() const { return vector_tensor(data_max_); }
Tensor MinMaxScaler::data_range() const { return vector_tensor(range_); }

}  // namespace tg::data
