// Small contracts at the edges: tg::grad's options, allocation errors, DType printing, cumsum of
// a 0-D tensor and binary cross-entropy at probabilities of exactly 0 and 1.
#include <doctest/doctest.h>

#include <sstream>
#include <tapegrad/autograd.hpp>
#include <tapegrad/autograd/loss.hpp>

#include "../support/testing.hpp"

using tg::testing::constant;
using tg::testing::leaf;

TEST_CASE("tg::grad with GradOptions refuses an unused input unless allow_unused") {
  tg::Tensor x = leaf({1.0, 2.0}, {2});
  tg::Tensor unused = leaf({1.0, 2.0, 3.0}, {3});
  auto loss = [&] { return (x * x).sum(); };
  TG_CHECK_ERROR(tg::grad({loss()}, {x, unused}, {}, tg::GradOptions{}), "grad: input 1", "f64 [3]",
                 "allow_unused");
  const std::vector<tg::Tensor> allowed =
      tg::grad({loss()}, {x, unused}, {}, {.allow_unused = true});
  TG_CHECK_VALUES(allowed[0], {2.0, 4.0});  // d/dx Σ x² = 2x
  CHECK_FALSE(allowed[1].defined());
  // The old boolean form keeps its behaviour: an undefined gradient, no error.
  CHECK_FALSE(tg::grad({loss()}, {x, unused})[1].defined());
  SUBCASE("create_graph through the options gives a differentiable gradient") {
    const tg::Tensor g = tg::grad({(x * x * x).sum()}, {x}, {}, {.create_graph = true})[0];
    TG_CHECK_VALUES(g, {3.0, 12.0});  // 3x²
    CHECK(g.requires_grad());
    TG_CHECK_VALUES(tg::grad({g.sum()}, {x}, {}, tg::GradOptions{})[0], {6.0, 12.0});  // 6x
  }
}

TEST_CASE("an allocation that cannot be made is a tg::Error naming the op, shape and bytes") {
  // 2^40 f32 elements: 4 TiB, more than this machine's memory.
  TG_CHECK_ERROR(tg::zeros({int64_t{1} << 40}), "zeros", "[1099511627776]", "4398046511104 bytes",
                 "f32");
  TG_CHECK_ERROR(tg::full({int64_t{1} << 20, int64_t{1} << 20}, 1.0, {.dtype = tg::f64}), "full",
                 "[1048576, 1048576]", "8796093022208 bytes");
  // An op's output: the broadcast product of [2^20, 1] and [1, 2^20] is 2^40 f32 elements.
  const tg::Tensor column = tg::ones({int64_t{1} << 20, 1});
  const tg::Tensor row = tg::ones({1, int64_t{1} << 20});
  TG_CHECK_ERROR(column * row, "[1048576, 1048576]", "4398046511104 bytes");
}

TEST_CASE("DType prints as f32, f64 and i64") {
  std::ostringstream out;
  out << tg::f32 << ' ' << tg::DType::f64 << ' ' << tg::i64;
  CHECK(out.str() == "f32 f64 i64");
  CHECK(tg::to_string(tg::f32) == "f32");
  CHECK(tg::to_string(tg::f64) == "f64");
  CHECK(tg::to_string(tg::i64) == "i64");
}

TEST_CASE("cumsum of a 0-D tensor is the tensor, for dim 0 and -1, as PyTorch's") {
  for (const int64_t dim : {0, -1}) {
    CAPTURE(dim);
    tg::Tensor x = leaf({2.5}, {});
    const tg::Tensor y = tg::cumsum(x, dim);
    CHECK(y.dim() == 0);
    CHECK(y.item() == 2.5);
    (y * 3.0).backward();
    CHECK(x.grad().dim() == 0);
    CHECK(x.grad().item() == 3.0);
  }
  const tg::Tensor i = tg::cumsum(tg::scalar(7, {.dtype = tg::i64}), 0);
  CHECK(i.dtype() == tg::i64);
  CHECK(i.item<int64_t>() == 7);
  TG_CHECK_ERROR(tg::cumsum(tg::scalar(1.0), 1), "cumsum", "dim 1", "0-D");
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::cumsum(in[0], -1); },
                     {leaf({0.75}, {})});
}

TEST_CASE("binary cross-entropy clamps log at -100 at p = 0 and 1, as PyTorch") {
  // l = −(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)):
  //   p = 0, y = 1: 100;  p = 1, y = 0: 100;  p = 0, y = 0.25: 25;  p = 1, y = 0.75: 25.
  tg::Tensor p = leaf({0.0, 1.0, 0.0, 1.0}, {4});
  tg::Tensor y = leaf({1.0, 0.0, 0.25, 0.75}, {4});
  const tg::Tensor loss = tg::binary_cross_entropy(p, y, tg::Reduction::none);
  TG_CHECK_VALUES(loss, {100.0, 100.0, 25.0, 25.0});
  loss.sum().backward();
  // dl/dp = (p − y)/max(p(1 − p), 1e-12): −1e12, 1e12, −0.25e12, 0.25e12.
  TG_CHECK_VALUES_TOL(p.grad(), 1.0, {-1e12, 1e12, -0.25e12, 0.25e12});
  // dl/dy = max(log(1 − p), −100) − max(log p, −100): 100 at p = 0, −100 at p = 1.
  TG_CHECK_VALUES(y.grad(), {100.0, -100.0, 100.0, -100.0});
  SUBCASE("in f32 too") {
    const tg::Tensor l32 =
        tg::binary_cross_entropy(tg::tensor({0.0, 1.0}, {.dtype = tg::f32}),
                                 tg::tensor({1.0, 0.0}, {.dtype = tg::f32}), tg::Reduction::none);
    TG_CHECK_VALUES(l32, {100.0, 100.0});
  }
}
