// tg::data::StandardScaler and MinMaxScaler: per-column feature scaling fitted on training data.
#pragma once

#include <cstdint>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data {

/// x <- (x - mean) / std per column, with the population std (ddof 0) as sklearn's; a constant
/// column keeps std 1 (it is only centred). Fit on [n, d] data, transform [m, d] data. Floating
/// inputs keep their dtype (i64 gives f64); transforms are not recorded on the tape.
///
///     tg::data::StandardScaler scaler;
///     tg::Tensor x_train_scaled = scaler.fit_transform(x_train);
///     tg::Tensor x_test_scaled = scaler.transform(x_test);   // with the training statistics
class StandardScaler {
 public:
  /// Computes each column's mean and std of X [n, d] (n >= 1); throws tg::Error otherwise.
  StandardScaler& fit(const Tensor& X);
  /// (X - mean) / scale; throws tg::Error before fit() or if X is not [m, d] for the fitted d.
  Tensor transform(const Tensor& X) const;
  /// fit(X) then transform(X).
  Tensor fit_transform(const Tensor& X);
  /// X * scale + mean, undoing transform.
  Tensor inverse_transform(const Tensor& X) const;

  bool is_fitted() const { return !mean_.empty(); }
  /// Number of columns fitted (0 before fit).
  int64_t n_features() const { return static_cast<int64_t>(mean_.size()); }
  /// Column means, f64 [d].
  Tensor mean() const;
  /// Column population variances, f64 [d].
  Tensor var() const;
  /// Column divisors, f64 [d]: sqrt(var), or 1 for a constant column.
  Tensor scale() const;

 private:
  std::vector<double> mean_;
  std::vector<double> var_;
  std::vector<double> scale_;
};

/// x <- low + (x - min) / (max - min) * (high - low) per column, as sklearn's MinMaxScaler; a
/// constant column has range 1 (so its fitted values map to `low`). Same shapes and dtypes as
/// StandardScaler.
class MinMaxScaler {
 public:
  /// Maps to [low, high]; throws tg::Error unless low < high.
  explicit MinMaxScaler(double low = 0.0, double high = 1.0);

  /// Records each column's min and max of X [n, d] (n >= 1); throws tg::Error otherwise.
  MinMaxScaler& fit(const Tensor& X);
  /// The scaled X; throws tg::Error before fit() or if X is not [m, d] for the fitted d.
  Tensor transform(const Tensor& X) const;
  /// fit(X) then transform(X).
  Tensor fit_transform(const Tensor& X);
  /// Undoes transform.
  Tensor inverse_transform(const Tensor& X) const;

  bool is_fitted() const { return !data_min_.empty(); }
  /// Number of columns fitted (0 before fit).
  int64_t n_features() const { return static_cast<int64_t>(data_min_.size()); }
  /// Column minima, f64 [d].
  Tensor data_min() const;
  /// Column maxima, f64 [d].
  Tensor data_max() const;
  /// Column ranges max - min, f64 [d] (1 for a constant column).
  Tensor data_range() const;

 private:
  double low_;
  double high_;
  std::vector<double> data_min_;
  std::vector<double> data_max_;
  std::vector<double> range_;
};

/// The mean and population standard deviation (ddof 0) of all of a tensor's elements.
struct ElementMoments {
  double mean = 0;
  double std = 1;
};

/// The mean and population std of every element of the f32 or f64 tensor X (numel >= 1), in
/// double and in two passes over X that allocate nothing (torchvision's Normalize constants).
ElementMoments element_moments(const Tensor& X);

/// X <- (X - mean) / std for every element, in place: one pass, no copy, so a dataset is
/// standardised without a second one beside it. X must be an f32 or f64 tensor that no op
/// recorded and that does not require grad, and std must be positive and finite; else tg::Error.
/// Bumps X's version, as in-place writes do.
///
///     const tg::data::ElementMoments pixels = tg::data::element_moments(train.images);
///     tg::data::standardize_(train.images, pixels.mean, pixels.std);
///     tg::data::standardize_(test.images, pixels.mean, pixels.std);  // training statistics
void standardize_(Tensor& X, double mean, double std);

}  // namespace tg::data
