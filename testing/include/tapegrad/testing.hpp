// TG_CHECK_GRADIENTS and TG_CHECK_GRADGRADIENTS: a gradcheck as one line of a doctest case or a
// GoogleTest test, which fails with gradcheck's whole report, the inputs' values and the seed.
//
// Include <doctest/doctest.h> or <gtest/gtest.h> first: the macros report through whichever
// framework is present (GoogleTest when both are) and this header depends on neither.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tapegrad/autograd/gradcheck.hpp"

namespace tg::testing {

/// The verdict of one TG_CHECK_GRADIENTS line and the message it fails with.
struct GradientCheck {
  bool ok = true;
  std::string message;
};

namespace detail {

/// "input 0 [3] = [0.5, -1, 2]": every value (the first 64) to the last digit, so that the
/// point can be typed back in.
inline std::string input_values(const std::vector<Tensor>& inputs,
                                const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    if (!input.defined()) continue;
    const std::string name = i < names.size() ? names[i] : "input " + std::to_string(i);
    text += "  " + name + " " + format_shape(input.shape()) + " " + dtype_name(input.dtype()) +
            (input.requires_grad() ? "" : " (constant)") + " = [";
    const std::vector<double> values = input.to_vector();
    for (size_t k = 0; k < values.size() && k < 64; ++k) {
      char number[32];
      std::snprintf(number, sizeof number, "%s%.17g", k ? ", " : "", values[k]);
      text += number;
    }
    if (values.size() > 64) text += ", ... (" + std::to_string(values.size()) + " values)";
    text += "]\n";
  }
  return text;
}

}  // namespace detail

/// Runs gradcheck (gradgradcheck when `second_order`) and, when it fails, writes the message
/// TG_CHECK_GRADIENTS prints: the check as written, gradcheck's report, the given inputs'
/// values, and the seed and sample count that repeat the check.
inline GradientCheck check_gradients(const char* written, bool second_order,
                                     std::function<Tensor(const std::vector<Tensor>&)> fn,
                                     std::vector<Tensor> inputs, GradcheckOptions options = {}) {
  // The values as given, taken before the check (which puts them back, but may throw).
  const std::string values = detail::input_values(inputs, options.input_names);
  const GradcheckResult result = second_order ? gradgradcheck(std::move(fn), inputs, options)
                                              : gradcheck(std::move(fn), inputs, options);
  if (result.ok) return {};
  GradientCheck check;
  check.ok = false;
  check.message = std::string(second_order ? "TG_CHECK_GRADGRADIENTS(" : "TG_CHECK_GRADIENTS(") +
                  written + ") failed\n" + result.report;
  if (check.message.back() != '\n') check.message += '\n';
  check.message += "inputs as given:\n" + values + "seed " + std::to_string(options.seed) +
                   ", samples " + std::to_string(options.samples) +
                   " (the same options check the same points)\n";
  return check;
}

}  // namespace tg::testing

#if defined(GOOGLETEST_INCLUDE_GTEST_GTEST_H_) || defined(GTEST_INCLUDE_GTEST_GTEST_H_)
// GoogleTest: a non-fatal failure at the line of the check, as EXPECT_* gives.
#define TG_DETAIL_GRADIENT_FAILURE(message) ADD_FAILURE() << (message)
#elif defined(DOCTEST_LIBRARY_INCLUDED)
// doctest: a failed CHECK at the line of the check; the test case goes on.
#define TG_DETAIL_GRADIENT_FAILURE(message) DOCTEST_ADD_FAIL_CHECK_AT(__FILE__, __LINE__, message)
#else
#error "<tapegrad/testing.hpp>: include <doctest/doctest.h> or <gtest/gtest.h> before it"
#endif

#define TG_DETAIL_CHECK_GRADIENTS(second_order, written, ...)               \
  do {                                                                      \
    const ::tg::testing::GradientCheck tg_gradient_check_ =                 \
        ::tg::testing::check_gradients(written, second_order, __VA_ARGS__); \
    if (!tg_gradient_check_.ok) {                                           \
      TG_DETAIL_GRADIENT_FAILURE(tg_gradient_check_.message);               \
    }                                                                       \
  } while (false)

/// TG_CHECK_GRADIENTS(fn, inputs[, options]): gradcheck(fn, inputs, options) as one assertion;
/// fn takes const std::vector<tg::Tensor>&, inputs may be a braced list.
#define TG_CHECK_GRADIENTS(...) TG_DETAIL_CHECK_GRADIENTS(false, #__VA_ARGS__, __VA_ARGS__)

/// TG_CHECK_GRADGRADIENTS(fn, inputs[, options]): the same for gradgradcheck.
#define TG_CHECK_GRADGRADIENTS(...) TG_DETAIL_CHECK_GRADIENTS(true, #__VA_ARGS__, __VA_ARGS__)
