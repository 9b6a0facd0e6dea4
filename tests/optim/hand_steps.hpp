// What the hand-computed optimizer tests share: a few steps of one parameter with fixed
// gradients, and a descent on an ill-conditioned quadratic.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <vector>

#include "support/testing.hpp"

namespace tg::testing {

/// One step per gradient of `gradients` (2, −1, 4 unless given) from w = w0 (1 unless given),
/// f64; returns w after each step.
template <class Optimizer, class Options>
std::vector<double> hand_steps(Options options, std::vector<double> gradients = {2.0, -1.0, 4.0},
                               double w0 = 1.0) {
  Tensor w = param({w0});
  Optimizer opt({w}, options);
  std::vector<double> trace;
  for (double g : gradients) {
    set_grad(w, {g});
    opt.step();
    trace.push_back(w.item());
  }
  return trace;
}

/// Checks w after each step against its hand-computed value, to exact()'s 1e-12.
inline void check_steps(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == exact(expected[i]));
  }
}

/// Minimises ½(100 w0² + w1²) from (1, 1) with `opt` over `w` for `steps` steps, halving the
/// learning rate every `halve_every` steps, and checks both coordinates reach 1e-4 of 0.
inline void check_descends_ill_conditioned(optim::Optimizer& opt, Tensor& w, int steps,
                                           int halve_every) {
  const Tensor curvature = tg::tensor({100.0, 1.0}, {.dtype = tg::f64});
  for (int k = 0; k < steps; ++k) {
    if (k % halve_every == halve_every - 1) opt.set_lr(opt.lr() * 0.5);
    opt.zero_grad();
    ((curvature * w * w).sum() * 0.5).backward();
    opt.step();
  }
  const auto v = w.to_vector();
  CAPTURE(v[0]);
  CAPTURE(v[1]);
  CHECK(std::abs(v[0]) < 1e-4);
  CHECK(std::abs(v[1]) < 1e-4);
}

}  // namespace tg::testing
