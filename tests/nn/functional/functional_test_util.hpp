// Helpers shared by the functional tests: f64 leaves, value checks and error-message capture.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <tapegrad/autograd.hpp>
#include <vector>

#include "tapegrad/nn/clip_grad.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn::testing {

/// An f64 leaf that requires grad.
inline Tensor leaf(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = f64, .requires_grad = true});
}

/// An f64 tensor without gradient.
inline Tensor constant(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = f64});
}

/// An i64 tensor of class indices.
inline Tensor labels(std::vector<double> values, Shape shape) {
  return tensor(std::move(values), std::move(shape), {.dtype = i64});
}

/// True when every element of `actual` is within `tolerance` of `expected`.
inline bool all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                      double tolerance) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i)
    if (!(std::abs(actual[i] - expected[i]) <= tolerance)) return false;
  return true;
}

/// True when every element is finite.
inline bool all_finite(const Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
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

}  // namespace tg::nn::testing

/// Checks a tensor's values (row-major) against hand-computed ones, within `tolerance`.
#define TG_CHECK_VALUES_TOL(tensor_expression, tolerance, ...)                         \
  do {                                                                                 \
    const tg::Tensor tg_checked = (tensor_expression);                                 \
    const std::vector<double> tg_expected = __VA_ARGS__;                               \
    const std::string tg_checked_values = tg::to_string(tg_checked);                   \
    CAPTURE(tg_checked_values);                                                        \
    CHECK(tg::nn::testing::all_close(tg_checked.to_vector(), tg_expected, tolerance)); \
  } while (false)

/// Checks a tensor's values against hand-computed ones, to 1e-12.
#define TG_CHECK_VALUES(tensor_expression, ...) \
  TG_CHECK_VALUES_TOL(tensor_expression, 1e-12, __VA_ARGS__)

/// Runs tg::gradcheck and reports its findings on failure.
#define TG_CHECK_GRADCHECK(function, ...)                                  \
  do {                                                                     \
    const auto tg_gradcheck_result = tg::gradcheck(function, __VA_ARGS__); \
    CHECK_MESSAGE(tg_gradcheck_result.ok, tg_gradcheck_result.report);     \
  } while (false)

/// Checks that `expression` throws tg::Error whose message contains every listed fragment.
#define TG_CHECK_ERROR(expression, ...)                                                         \
  do {                                                                                          \
    CHECK_THROWS_AS((void)(expression), tg::Error);                                             \
    const std::string tg_message = tg::nn::testing::error_message([&] { (void)(expression); }); \
    CAPTURE(tg_message);                                                                        \
    for (const char* tg_fragment : {__VA_ARGS__})                                               \
      CHECK(tg_message.find(tg_fragment) != std::string::npos);                                 \
  } while (false)
