// Version counters: a tensor saved for backward and then written in place makes backward throw.
#include <doctest/doctest.h>

#include <tapegrad/autograd.hpp>

#include "../support/testing.hpp"

using tg::testing::contains;
using tg::testing::error_message;
using tg::testing::leaf;

TEST_CASE("copy_ into a tensor saved for backward makes backward throw, not a wrong gradient") {
  SUBCASE("a leaf saved by mul and overwritten under NoGradGuard (the observed 10 instead of 4)") {
    tg::Tensor x = leaf({2.0}, {1});
    tg::Tensor y = (x * x).sum();  // dy/dx = 2x = 4
    {
      tg::NoGradGuard no_grad;
      x.copy_(tg::tensor({5.0}, {.dtype = tg::f64}));
    }
    const std::string message = error_message([&] { y.backward(); });
    CAPTURE(message);
    CHECK(contains(message, "modified by an inplace operation"));
    CHECK(contains(message, "'mul'"));
    CHECK(contains(message, "version 0"));
    CHECK(contains(message, "version 1"));
    CHECK(!x.grad().defined());
  }
  SUBCASE("a constant input saved by mul and overwritten") {
    tg::Tensor w = leaf({1.0, 1.0}, {2});
    tg::Tensor data = tg::tensor({2.0, 3.0}, {.dtype = tg::f64});
    tg::Tensor loss = (w * data).sum();
    data.fill_(7.0);
    const std::string message = error_message([&] { loss.backward(); });
    CAPTURE(message);
    CHECK(contains(message, "'mul'"));
    CHECK(contains(message, "modified by an inplace operation"));
  }
  SUBCASE("an output saved by exp and overwritten through a detached alias") {
    tg::Tensor x = leaf({0.0, 1.0}, {2});
    tg::Tensor y = tg::exp(x);
    tg::Tensor loss = y.sum();
    y.detach().fill_(0.0);
    const std::string message = error_message([&] { loss.backward(); });
    CAPTURE(message);
    CHECK(contains(message, "'exp'"));
    CHECK(contains(message, "modified by an inplace operation"));
  }
  SUBCASE("a write before the op is recorded is fine") {
    tg::Tensor x = leaf({2.0}, {1});
    {
      tg::NoGradGuard no_grad;
      x.copy_(tg::tensor({3.0}, {.dtype = tg::f64}));
    }
    (x * x).sum().backward();
    TG_CHECK_VALUES(x.grad(), {6.0});
  }
  SUBCASE("an op that saved nothing does not care: add") {
    tg::Tensor w = leaf({1.0}, {1});
    tg::Tensor data = tg::tensor({2.0}, {.dtype = tg::f64});
    tg::Tensor loss = (w + data).sum();
    data.fill_(9.0);
    loss.backward();
    TG_CHECK_VALUES(w.grad(), {1.0});
  }
}

namespace {
struct Cube : tg::autograd::Function<Cube> {
  static constexpr const char* name = "Cube";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> g) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    return {g[0] * 3.0 * x * x};  // d(x³)/dx = 3x²
  }
};
}  // namespace

TEST_CASE("a custom Function's saved tensor written in place makes backward name the Function") {
  tg::Tensor x = leaf({2.0}, {1});
  tg::Tensor y = Cube::apply(x).sum();
  {
    tg::NoGradGuard no_grad;
    x.fill_(1.0);
  }
  const std::string message = error_message([&] { y.backward(); });
  CAPTURE(message);
  CHECK(contains(message, "'Cube'"));
  CHECK(contains(message, "modified by an inplace operation"));
  CHECK(contains(message, "version 0"));
  CHECK(contains(message, "version 1"));
}
