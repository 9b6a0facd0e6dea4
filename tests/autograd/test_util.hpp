// Helpers shared by the autograd tests: f64 leaves, random inputs away from kinks, value checks.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <tapegrad/autograd.hpp>
#include <vector>

namespace tg::testing {

/// An f64 leaf that requires grad.
inline Tensor leaf(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = f64, .requires_grad = true});
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

/// True when every element of `actual` is within `tolerance` of `expected`, element by element.
inline bool all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                      double tolerance = 1e-12) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i]) != std::isnan(actual[i])) return false;
    if (!std::isnan(expected[i]) && !(std::abs(actual[i] - expected[i]) <= tolerance)) return false;
  }
  return true;
}

/// Whether `message` mentions `part` (for checking what a tg::Error says).
inline bool mentions(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

/// The message of the tg::Error that `f` throws, or "" if it throws none.
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
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
