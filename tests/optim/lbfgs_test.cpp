// LBFGS: hand-computed iterations on a quadratic, Rosenbrock with and without the strong-Wolfe
// line search, options and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim/lbfgs.hpp>

#include "support/testing.hpp"

using tg::testing::exact;
using tg::testing::param;

TEST_CASE("LBFGS without line search, by hand on f = ½·0.5·w² (lr 0.5, max_iter 3)") {
  // From w = 1 (f = 0.25, g = 0.5·w):
  //  iter 1: d = −g = −0.5, t = min(1, 1/|g|₁)·lr = min(1, 2)·0.5 = 0.5:  w = 1 − 0.25 = 0.75
  //  iter 2: s = −0.25, y = 0.375 − 0.5 = −0.125, ρ = 1/(y·s) = 32, H₀ = y·s/y·y = 2;
  //          two-loop: q = −0.375, α = ρ·s·q = 3, q = −0.375 − 3·(−0.125) = 0, r = H₀·q = 0,
  //          β = ρ·y·r = 0, r = r + s·(α − β) = −0.75 = −g/0.5 (the Newton step); t = lr = 0.5:
  //          w = 0.75 − 0.375 = 0.375
  //  iter 3: the secant pairs all give curvature 0.5, so again d = −w, t = 0.5: w = 0.1875;
  //          the last iteration does not re-evaluate (3 closure calls in all).
  // max_eval is raised from its default max_iter·5/4 = 3, which would stop after iteration 2.
  // A second step() continues the same history: w = 0.09375, 0.046875, 0.0234375.
  tg::Tensor w = param({1.0});
  tg::optim::LBFGS opt({w}, {.lr = 0.5, .max_iter = 3, .max_eval = 10});
  auto closure = [&] {
    opt.zero_grad();
    tg::Tensor loss = (w * w).sum() * 0.25;
    loss.backward();
    return loss;
  };
  const tg::Tensor first = opt.step(closure);
  CHECK(first.item() == exact(0.25));  // the loss before the step, as PyTorch returns
  CHECK(w.item() == exact(0.1875));
  CHECK(opt.state().func_evals == 3);
  CHECK(opt.state().n_iter == 3);
  CHECK(opt.state().old_dirs.size() == 2);
  CHECK(opt.state().H_diag == exact(2.0));

  const tg::Tensor second = opt.step(closure);
  CHECK(opt.state().old_dirs.size() == 5);  // one new pair in each of iterations 2 to 6
  CHECK(second.item() == exact(0.25 * 0.1875 * 0.1875));
  CHECK(w.item() == exact(0.0234375));
  CHECK(opt.state().func_evals == 6);
  CHECK(opt.state().n_iter == 6);
}

TEST_CASE("LBFGS max_eval defaults to max_iter·5/4 and stops the iterations") {
  // max_iter 3 gives max_eval 3: the initial evaluation plus iterations 1 and 2 use it up.
  tg::Tensor w = param({1.0});
  tg::optim::LBFGS opt({w}, {.lr = 0.5, .max_iter = 3});
  opt.step([&] {
    opt.zero_grad();
    tg::Tensor loss = (w * w).sum() * 0.25;
    loss.backward();
    return loss;
  });
  CHECK(opt.state().n_iter == 2);
  CHECK(opt.state().func_evals == 3);
  CHECK(w.item() == exact(0.375));  // the first two iterations of the case above
}

TEST_CASE("LBFGS history_size bounds the stored curvature pairs") {
  tg::Tensor w = param({1.0, -1.0, 2.0});
  const tg::Tensor c = tg::tensor({1.0, 3.0, 10.0}, {.dtype = tg::f64});
  tg::optim::LBFGS opt({w}, {.lr = 0.1, .max_iter = 10, .history_size = 2});
  opt.step([&] {
    opt.zero_grad();
    tg::Tensor loss = ((c * w * w).sum() * 0.5);
    loss.backward();
    return loss;
  });
  CHECK(opt.state().old_dirs.size() == 2);
  CHECK(opt.state().old_stps.size() == 2);
  CHECK(opt.state().ro.size() == 2);
}

namespace {

// f(x, y) = (1 − x)² + 100(y − x²)², minimum 0 at (1, 1).
tg::Tensor rosenbrock(const tg::Tensor& x, const tg::Tensor& y) {
  return (tg::pow(1.0 - x, 2.0) + 100.0 * tg::pow(y - tg::pow(x, 2.0), 2.0)).sum();
}

}  // namespace

TEST_CASE("LBFGS with strong_wolfe minimises Rosenbrock from (-1.5, 2)") {
  // PyTorch's default tolerance_change 1e-9 ends an iteration once g·d > −1e-9, which on
  // Rosenbrock happens about 2e-6 from the minimum; the tighter stopping rule lets it finish.
  tg::Tensor x = param({-1.5});
  tg::Tensor y = param({2.0});
  tg::optim::LBFGS opt(
      {x, y},
      {.tolerance_grad = 1e-12, .tolerance_change = 1e-15, .line_search_fn = "strong_wolfe"});
  auto closure = [&] {
    opt.zero_grad();
    tg::Tensor loss = rosenbrock(x, y);
    loss.backward();
    return loss;
  };
  const double start = closure().item();
  for (int k = 0; k < 20; ++k) opt.step(closure);
  CAPTURE(x.item());
  CAPTURE(y.item());
  CAPTURE(opt.state().n_iter);
  CAPTURE(opt.state().func_evals);
  CHECK(start == exact(6.25 + 100 * 0.0625));  // (2.5)² + 100(2 − 2.25)²
  CHECK(std::abs(x.item() - 1) < 1e-6);
  CHECK(std::abs(y.item() - 1) < 1e-6);
  CHECK(opt.state().n_iter < 200);
}

TEST_CASE("LBFGS without line search makes progress on Rosenbrock") {
  tg::Tensor x = param({-1.5});
  tg::Tensor y = param({2.0});
  tg::optim::LBFGS opt({x, y}, {.lr = 0.1, .max_iter = 50});
  auto closure = [&] {
    opt.zero_grad();
    tg::Tensor loss = rosenbrock(x, y);
    loss.backward();
    return loss;
  };
  const double start = closure().item();
  for (int k = 0; k < 20; ++k) opt.step(closure);
  const double end = closure().item();
  CAPTURE(start);
  CAPTURE(end);
  CAPTURE(x.item());
  CAPTURE(y.item());
  CHECK(std::isfinite(end));
  CHECK(end < start / 100);
}

TEST_CASE("LBFGS evaluates at most max_eval times per step with the line search") {
  tg::Tensor x = param({-1.5});
  tg::Tensor y = param({2.0});
  tg::optim::LBFGS opt({x, y}, {.max_iter = 100, .max_eval = 10, .line_search_fn = "strong_wolfe"});
  int calls = 0;
  opt.step([&] {
    ++calls;
    opt.zero_grad();
    tg::Tensor loss = rosenbrock(x, y);
    loss.backward();
    return loss;
  });
  // The check runs after each iteration, and one line search may add up to 25 evaluations.
  CHECK(calls == opt.state().func_evals);
  CHECK(calls >= 10);
  CHECK(calls < 10 + 25);
  CHECK(opt.state().n_iter < 100);
}

TEST_CASE("LBFGS stops at once when the gradient is already below tolerance_grad") {
  tg::Tensor w = param({0.0, 0.0});
  tg::optim::LBFGS opt({w});
  int calls = 0;
  opt.step([&] {
    ++calls;
    opt.zero_grad();
    tg::Tensor loss = (w * w).sum();
    loss.backward();
    return loss;
  });
  CHECK(calls == 1);
  CHECK(opt.state().n_iter == 0);
}

TEST_CASE("LBFGS options: PyTorch's defaults, max_eval derived from max_iter") {
  tg::Tensor w = param({1.0});
  const tg::optim::LBFGSOptions defaults;
  CHECK(defaults.lr == 1);
  CHECK(defaults.max_iter == 20);
  CHECK(defaults.tolerance_grad == 1e-7);
  CHECK(defaults.tolerance_change == 1e-9);
  CHECK(defaults.history_size == 100);
  CHECK(defaults.line_search_fn.empty());
  CHECK(tg::optim::LBFGS({w}).options().max_eval == 25);
  CHECK(tg::optim::LBFGS({w}, {.max_iter = 100}).options().max_eval == 125);
  CHECK(tg::optim::LBFGS({w}, {.max_eval = 7}).options().max_eval == 7);
}

TEST_CASE("LBFGS errors: step() without a closure and invalid options") {
  tg::Tensor w = param({1.0});
  tg::optim::LBFGS opt({w});
  TG_CHECK_ERROR(opt.step(), "closure");
  tg::optim::Optimizer& base = opt;
  TG_CHECK_ERROR(base.step(), "LBFGS: step() needs a closure");
  TG_CHECK_ERROR(opt.step(std::function<tg::Tensor()>()), "empty closure");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.lr = -1}), "LBFGS: invalid learning rate -1");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.max_iter = 0}), "max_iter 0");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.max_eval = -3}), "max_eval -3");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.tolerance_grad = -1e-7}), "tolerance_grad -1e-07");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.tolerance_change = -1}), "tolerance_change -1");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.history_size = 0}), "history_size 0");
  TG_CHECK_ERROR(tg::optim::LBFGS({w}, {.line_search_fn = "backtracking"}), "\"backtracking\"");
}
