// Helpers for the optim tests: parameters with scripted gradients, error capture, tolerances.
#pragma once

#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <tapegrad/autograd.hpp>
#include <vector>

namespace optim_test {

/// A 1-D f64 leaf that requires grad.
inline tg::Tensor param(std::initializer_list<double> values, tg::DType dtype = tg::f64) {
  return tg::tensor(values, {.dtype = dtype, .requires_grad = true});
}

/// Makes w.grad() equal `g` through the real backward: d/dw Σ g·w = g.
inline void set_grad(tg::Tensor& w, const std::vector<double>& g) {
  w.zero_grad();
  (w * tg::tensor(g, {static_cast<int64_t>(g.size())}, {.dtype = w.dtype()})).sum().backward();
}

/// The what() of the tg::Error `run` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const tg::Error& e) {
    return e.what();
  }
  return "(no error)";
}

/// Relative 1e-12 (absolute near 0): hand arithmetic vs the optimizer, both in f64.
inline doctest::Approx exact(double expected) { return doctest::Approx(expected).epsilon(1e-12); }

}  // namespace optim_test

/// Checks that `expression` throws tg::Error whose message contains `text`.
#define CHECK_ERROR_MENTIONS(expression, text)                                      \
  do {                                                                              \
    CHECK_THROWS_AS(expression, tg::Error);                                         \
    const std::string message_ = optim_test::error_of([&] { (void)(expression); }); \
    CAPTURE(message_);                                                              \
    CHECK(message_.find(text) != std::string::npos);                                \
  } while (false)
