// The one test-support header: f64 leaves, value and error checks shared by every test suite.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <tapegrad/autograd.hpp>
#include <vector>

namespace tg::testing {

/// An f64 leaf that requires grad.
inline Tensor leaf(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = f64, .requires_grad = true});
}

/// A 1-D leaf that requires grad (f64 unless told otherwise).
inline Tensor param(std::initializer_list<double> values, DType dtype = f64) {
  return tensor(values, {.dtype = dtype, .requires_grad = true});
}

/// An f64 tensor without gradient.
inline Tensor constant(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = f64});
}

/// An i64 tensor of class indices.
inline Tensor labels(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = i64});
}

/// An f64 leaf of uniform samples in [lo, hi), drawn from the global generator.
inline Tensor uniform(const Shape& shape, double lo, double hi) {
  return (rand(shape, {.dtype = f64}) * (hi - lo) + lo).detach().set_requires_grad();
}

/// An f64 leaf whose magnitudes lie in [0.2, 1.2) with random signs: away from the kinks of
/// abs, relu, clamp and max at zero.
inline Tensor signed_away_from_zero(const Shape& shape) {
  const Tensor magnitude = rand(shape, {.dtype = f64}) + 0.2;
  const Tensor sign = gt(rand(shape, {.dtype = f64}), scalar(0.5, {.dtype = f64})) * 2.0 - 1.0;
  return (magnitude * sign).detach().set_requires_grad();
}

/// Sets a tensor's values by hand (row-major), whatever its dtype.
inline void set_values(Tensor tensor, const std::vector<double>& values) {
  REQUIRE(static_cast<int64_t>(values.size()) == tensor.numel());
  tensor.copy_(tg::tensor(values, tensor.shape(), {.dtype = tensor.dtype()}));
}

/// Makes w.grad() equal `g` through the real backward: d/dw Σ g·w = g.
inline void set_grad(Tensor& w, const std::vector<double>& g) {
  w.zero_grad();
  (w * tensor(g, {static_cast<int64_t>(g.size())}, {.dtype = w.dtype()})).sum().backward();
}

/// True when `actual` and `expected` have the same length and agree element by element within
/// `tolerance`; a NaN matches only a NaN (so an expected NaN is checked, not skipped).
inline bool all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                      double tolerance = 1e-12) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i]) || std::isnan(actual[i])) {
      if (std::isnan(expected[i]) != std::isnan(actual[i])) return false;
      continue;
    }
    if (!(std::abs(actual[i] - expected[i]) <= tolerance)) return false;
  }
  return true;
}

/// True when every element is finite.
inline bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

/// Relative 1e-12 (absolute near 0): hand arithmetic against an f64 computation.
inline doctest::Approx exact(double expected) { return doctest::Approx(expected).epsilon(1e-12); }

/// Whether `text` contains `part` (for checking what a tg::Error says).
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The message of the tg::Error that `action` throws; a failed check and "" if it throws none.
inline std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  FAIL_CHECK("expected a tg::Error");
  return "";
}

/// The lines of `text` without their '\n' (for checking printed tables and tapes line by line).
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) out.push_back(line);
  return out;
}

/// Sample mean and (n − 1) standard deviation of every element.
struct Moments {
  double mean;
  double std;
};
inline Moments moments(const Tensor& t) {
  const std::vector<double> v = t.to_vector();
  double sum = 0;
  for (double x : v) sum += x;
  const double mean = sum / static_cast<double>(v.size());
  double squares = 0;
  for (double x : v) squares += (x - mean) * (x - mean);
  return {mean, std::sqrt(squares / static_cast<double>(v.size() - 1))};
}

}  // namespace tg::testing

/// Runs tg::gradcheck and reports its findings on failure.
#define TG_CHECK_GRADCHECK(function, ...)                                  \
  do {                                                                     \
    const auto tg_gradcheck_result = tg::gradcheck(function, __VA_ARGS__); \
    CHECK_MESSAGE(tg_gradcheck_result.ok, tg_gradcheck_result.report);     \
  } while (false)

/// Checks a tensor's values (row-major) against hand-computed ones, within `tolerance`.
#define TG_CHECK_VALUES_TOL(tensor_expression, tolerance, ...)                     \
  do {                                                                             \
    const tg::Tensor tg_checked = (tensor_expression);                             \
    const std::vector<double> tg_expected = __VA_ARGS__;                           \
    const std::string tg_checked_values = tg::to_string(tg_checked);               \
    CAPTURE(tg_checked_values);                                                    \
    CHECK(tg::testing::all_close(tg_checked.to_vector(), tg_expected, tolerance)); \
  } while (false)

/// Checks a tensor's values against hand-computed ones, to 1e-12.
#define TG_CHECK_VALUES(tensor_expression, ...) \
  TG_CHECK_VALUES_TOL(tensor_expression, 1e-12, __VA_ARGS__)

/// Checks that `expression` throws tg::Error whose message contains every listed fragment.
#define TG_CHECK_ERROR(expression, ...)                                                     \
  do {                                                                                      \
    CHECK_THROWS_AS((void)(expression), tg::Error);                                         \
    const std::string tg_message = tg::testing::error_message([&] { (void)(expression); }); \
    CAPTURE(tg_message);                                                                    \
    for (const char* tg_fragment : {__VA_ARGS__})                                           \
      CHECK(tg_message.find(tg_fragment) != std::string::npos);                             \
  } while (false)
