// Helpers shared by the nn layer tests: value checks, error-message capture, gradcheck.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <tapegrad.hpp>
#include <vector>

namespace tg::nn::test {

/// True when every element of `actual` is within `tolerance` of `expected`.
inline bool all_close(const std::vector<double>& actual, const std::vector<double>& expected,
                      double tolerance) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i)
    if (!(std::abs(actual[i] - expected[i]) <= tolerance)) return false;
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

/// Sets a tensor's values by hand (row-major), whatever its dtype.
inline void set_values(Tensor tensor, const std::vector<double>& values) {
  REQUIRE(static_cast<int64_t>(values.size()) == tensor.numel());
  tensor.copy_(tg::tensor(values, tensor.shape(), {.dtype = tensor.dtype()}));
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

}  // namespace tg::nn::test

/// Checks a tensor's values (row-major) against hand-computed ones, within `tolerance`.
#define TG_CHECK_VALUES_TOL(tensor_expression, tolerance, ...)                      \
  do {                                                                              \
    const tg::Tensor tg_checked = (tensor_expression);                              \
    const std::vector<double> tg_expected = __VA_ARGS__;                            \
    const std::string tg_checked_values = tg::to_string(tg_checked);                \
    CAPTURE(tg_checked_values);                                                     \
    CHECK(tg::nn::test::all_close(tg_checked.to_vector(), tg_expected, tolerance)); \
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
#define TG_CHECK_ERROR(expression, ...)                                                      \
  do {                                                                                       \
    CHECK_THROWS_AS((void)(expression), tg::Error);                                          \
    const std::string tg_message = tg::nn::test::error_message([&] { (void)(expression); }); \
    CAPTURE(tg_message);                                                                     \
    for (const char* tg_fragment : {__VA_ARGS__})                                            \
      CHECK(tg_message.find(tg_fragment) != std::string::npos);                              \
  } while (false)
