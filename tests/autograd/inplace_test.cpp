// In-place ops: add_, sub_, mul_, div_, clamp_, zero_, fill_, copy_, uniform_, normal_; who may
// call them, what they compute, and that each bumps the storage's version.
#include <doctest/doctest.h>

#include <cmath>
#include <tapegrad/autograd.hpp>

#include "../support/testing.hpp"

using tg::testing::constant;
using tg::testing::leaf;

TEST_CASE("in-place arithmetic writes into the tensor, broadcasting the other operand") {
  tg::Tensor x = constant({1, 2, 3, 4}, {2, 2});
  SUBCASE("with a tensor of the same shape") {
    x.add_(constant({10, 20, 30, 40}, {2, 2}));
    TG_CHECK_VALUES(x, {11, 22, 33, 44});
    x.sub_(constant({1, 2, 3, 4}, {2, 2}));
    TG_CHECK_VALUES(x, {10, 20, 30, 40});
  }
  SUBCASE("with a row broadcast into every row") {
    x.mul_(constant({2, 10}, {2}));
    TG_CHECK_VALUES(x, {2, 20, 6, 40});
    x.div_(constant({2, 4}, {2}));
    TG_CHECK_VALUES(x, {1, 5, 3, 10});
  }
  SUBCASE("with doubles") {
    x.add_(0.5).mul_(2.0).sub_(1.0).div_(4.0);
    TG_CHECK_VALUES(x, {0.5, 1.0, 1.5, 2.0});
  }
  SUBCASE("every handle sharing the storage sees the write") {
    tg::Tensor view = x.reshape({4});
    x.add_(1.0);
    TG_CHECK_VALUES(view, {2, 3, 4, 5});
  }
  SUBCASE("an operand that would grow the tensor is refused") {
    TG_CHECK_ERROR(x.add_(constant({1, 2, 3, 4, 5, 6}, {3, 2})), "add_", "[3, 2]", "[2, 2]");
    TG_CHECK_ERROR(constant({1, 2}, {2}).mul_(constant({1, 2, 3, 4}, {2, 2})), "mul_", "[2, 2]",
                   "[2]");
  }
  SUBCASE("adding the tensor to itself reads every value before writing") {
    x.add_(x);
    TG_CHECK_VALUES(x, {2, 4, 6, 8});
  }
}

TEST_CASE("in-place ops on i64 tensors take integers and refuse floating results") {
  tg::Tensor n = tg::arange(3);
  n.add_(2).mul_(3).sub_(int64_t{1});
  CHECK(n.dtype() == tg::i64);
  TG_CHECK_VALUES(n, {5, 8, 11});
  TG_CHECK_ERROR(n.add_(0.5), "add_", "f32", "i64");
  TG_CHECK_ERROR(n.add_(2.0), "add_", "i64");  // by type, as PyTorch: a double makes a float
  TG_CHECK_ERROR(n.div_(2), "div_", "i64");
  TG_CHECK_VALUES(n, {5, 8, 11});
}

TEST_CASE("clamp_, zero_ and fill_ set values in place") {
  tg::Tensor x = constant({-2, 0.5, 3}, {3});
  x.clamp_(0.0, 1.0);
  TG_CHECK_VALUES(x, {0.0, 0.5, 1.0});
  x.clamp_(1.0, 0.25);  // lo > hi: every element becomes hi, as clamp
  TG_CHECK_VALUES(x, {0.25, 0.25, 0.25});
  x.zero_();
  TG_CHECK_VALUES(x, {0, 0, 0});
  x.fill_(7.5);
  TG_CHECK_VALUES(x, {7.5, 7.5, 7.5});
}

TEST_CASE("uniform_ and normal_ draw what rand and randn draw from the same seed") {
  SUBCASE("uniform_ on [0, 1) matches rand, in f32 and f64") {
    for (tg::DType dtype : {tg::f32, tg::f64}) {
      tg::manual_seed(5);
      const tg::Tensor expected = tg::rand({4, 3}, {.dtype = dtype});
      tg::manual_seed(5);
      tg::Tensor x = tg::zeros({4, 3}, {.dtype = dtype});
      x.uniform_();
      CHECK(x.to_vector() == expected.to_vector());
    }
  }
  SUBCASE("uniform_(from, to) scales the same draws") {
    tg::manual_seed(9);
    const std::vector<double> u = tg::rand({5}, {.dtype = tg::f64}).to_vector();
    tg::manual_seed(9);
    tg::Tensor x = tg::zeros({5}, {.dtype = tg::f64});
    x.uniform_(-2.0, 3.0);
    std::vector<double> expected;
    for (double v : u) expected.push_back(-2.0 + 5.0 * v);
    TG_CHECK_VALUES(x, expected);
  }
  SUBCASE("normal_(mean, std) is mean + std times randn's draws") {
    tg::manual_seed(3);
    const std::vector<double> z = tg::randn({6}, {.dtype = tg::f64}).to_vector();
    tg::manual_seed(3);
    tg::Tensor x = tg::zeros({6}, {.dtype = tg::f64});
    x.normal_(1.0, 0.5);
    std::vector<double> expected;
    for (double v : z) expected.push_back(1.0 + 0.5 * v);
    TG_CHECK_VALUES(x, expected);
  }
  SUBCASE("bad arguments and integer tensors are refused") {
    TG_CHECK_ERROR(tg::zeros({2}).uniform_(1.0, 0.0), "uniform_", "1", "0");
    TG_CHECK_ERROR(tg::zeros({2}).normal_(0.0, -1.0), "normal_", "-1");
    TG_CHECK_ERROR(tg::arange(3).uniform_(), "uniform_", "i64");
  }
}

TEST_CASE("a leaf that requires grad refuses in-place ops unless a NoGradGuard is alive") {
  tg::Tensor w = leaf({1, 2}, {2});
  TG_CHECK_ERROR(w.add_(1.0), "add_", "leaf Variable that requires grad", "NoGradGuard");
  TG_CHECK_ERROR(w.sub_(w), "sub_", "leaf Variable");
  TG_CHECK_ERROR(w.mul_(2.0), "mul_", "leaf Variable");
  TG_CHECK_ERROR(w.div_(2.0), "div_", "leaf Variable");
  TG_CHECK_ERROR(w.clamp_(0.0, 1.0), "clamp_", "leaf Variable");
  TG_CHECK_ERROR(w.zero_(), "zero_", "leaf Variable");
  TG_CHECK_ERROR(w.uniform_(), "uniform_", "leaf Variable");
  TG_CHECK_ERROR(w.normal_(), "normal_", "leaf Variable");
  TG_CHECK_VALUES(w, {1, 2});
  {
    tg::NoGradGuard no_grad;
    w.sub_(constant({0.5, 0.5}, {2})).mul_(2.0);
  }
  TG_CHECK_VALUES(w, {1, 3});
  CHECK(w.is_leaf());
  CHECK(w.requires_grad());
}

// Issue 22 moved this case to PyTorch's rule: a tensor computed by a recorded op used to refuse
// in-place ops (always, even under NoGradGuard); now they are recorded, and allowed freely
// under NoGradGuard. The refusal itself was the bug.
TEST_CASE("a tensor computed by a recorded op records in-place ops, as PyTorch") {
  tg::Tensor w = leaf({1, 2}, {2});
  tg::Tensor y = tg::sin(w);  // saves its input, not its output
  y.add_(1.0);
  CHECK_FALSE(y.is_leaf());
  TG_CHECK_VALUES(y, {std::sin(1.0) + 1, std::sin(2.0) + 1});
  y.sum().backward();
  TG_CHECK_VALUES(w.grad(), {std::cos(1.0), std::cos(2.0)});
  {
    tg::NoGradGuard no_grad;
    y.mul_(2.0);
  }
  TG_CHECK_VALUES(y, {2 * (std::sin(1.0) + 1), 2 * (std::sin(2.0) + 1)});
  // exp saves its output, so writing into it before backward is caught, as in PyTorch.
  tg::Tensor e = tg::exp(w);
  e.add_(1.0);
  const std::string message = tg::testing::error_message([&] { e.sum().backward(); });
  CAPTURE(message);
  CHECK(tg::testing::contains(message, "'exp'"));
  CHECK(tg::testing::contains(message, "modified by an inplace operation"));
  TG_CHECK_ERROR(tg::Tensor().zero_(), "zero_", "undefined tensor");
}

TEST_CASE("every in-place write bumps the version that saved tensors are checked against") {
  tg::Tensor x = constant({1, 2}, {2});
  CHECK(x.version() == 0);
  x.add_(1.0);
  CHECK(x.version() == 1);
  x.sub_(x);
  x.mul_(2.0);
  x.div_(constant({1, 1}, {2}));
  x.clamp_(0.0, 1.0);
  x.zero_();
  x.fill_(1.0);
  x.copy_(constant({3, 4}, {2}));
  x.uniform_();
  x.normal_();
  CHECK(x.version() == 10);
  tg::Tensor view = x.reshape({1, 2});
  view.add_(1.0);
  CHECK(x.version() == 11);  // one counter per storage, shared by views
  x.mark_modified();         // what code writing through data<T>() calls
  CHECK(view.version() == 12);
  SUBCASE("set_data moves past every version the old storage had") {
    tg::Tensor fresh = constant({5, 6}, {2});
    x.set_data(fresh);
    CHECK(x.version() > 12);
  }
  SUBCASE("ops and copies start new tensors at version 0") {
    CHECK((x * 2.0).version() == 0);
    CHECK(x.clone().version() <= 1);
    CHECK(tg::zeros({2}).version() == 0);
  }
}

TEST_CASE("an optimizer-style update between forward and backward is caught by the version") {
  tg::Tensor w = leaf({2.0, -1.0}, {2});
  tg::Tensor loss = (w * w).sum();
  {
    tg::NoGradGuard no_grad;
    w.sub_(constant({0.1, 0.1}, {2}));  // what an optimizer step does
  }
  const std::string message = tg::testing::error_message([&] { loss.backward(); });
  CAPTURE(message);
  CHECK(tg::testing::contains(message, "'mul'"));
  CHECK(tg::testing::contains(message, "modified by an inplace operation"));
  CHECK(tg::testing::contains(message, "version 1"));
}

TEST_CASE("a write through data<T>() followed by mark_modified is caught too") {
  tg::Tensor w = leaf({3.0}, {1});
  tg::Tensor loss = tg::log(w).sum();
  w.data<double>()[0] = 1.0;
  w.mark_modified();
  const std::string message = tg::testing::error_message([&] { loss.backward(); });
  CAPTURE(message);
  CHECK(tg::testing::contains(message, "'log'"));
  CHECK(tg::testing::contains(message, "modified by an inplace operation"));
}
