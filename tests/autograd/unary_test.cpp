// Unary ops, driven by the op table (unary_ops.hpp): values and derivatives, gradcheck, f32
// against f64; and the elementwise maximum and minimum.
#include <algorithm>
#include <cmath>

#include "support/testing.hpp"
#include "unary_ops.hpp"

using tg::testing::leaf;
using tg::testing::signed_away_from_zero;
using tg::testing::unary_ops;
using tg::testing::uniform;

TEST_CASE("every unary op gives its hand-computed values and derivatives") {
  for (const auto& op : unary_ops()) {
    SUBCASE(op.label) {
      tg::Tensor x = leaf(op.at, {static_cast<int64_t>(op.at.size())});
      const tg::Tensor y = op.fn(x);
      CHECK(y.dtype() == tg::f64);
      TG_CHECK_VALUES(y, op.values);
      y.sum().backward();
      TG_CHECK_VALUES(x.grad(), op.derivatives);
    }
  }
}

TEST_CASE("sigmoid stays finite and exact at the extremes") {
  const tg::Tensor x = tg::tensor({-1000.0, 1000.0}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor y = tg::sigmoid(x);
  TG_CHECK_VALUES(y, {0, 1});
  y.sum().backward();
  TG_CHECK_VALUES(x.grad(), {0, 0});
}

TEST_CASE("maximum and minimum pick elementwise and broadcast") {
  const tg::Tensor a = tg::tensor({1, 5, 3, 2}, {2, 2}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({2, 4}, {2}, {.dtype = tg::f64});
  TG_CHECK_VALUES(tg::maximum(a, b), {2, 5, 3, 4});
  TG_CHECK_VALUES(tg::minimum(a, b), {1, 4, 2, 2});
}

TEST_CASE("maximum and minimum route the gradient to the chosen side") {
  tg::Tensor x = leaf({-2.0, 0.5, 3.0}, {3});
  tg::Tensor y = leaf({0.0, 1.0, 1.0}, {3});
  (tg::maximum(x, y) + 10.0 * tg::minimum(x, y)).sum().backward();
  // max picks y, y, x; min picks x, x, y
  TG_CHECK_VALUES(x.grad(), {10, 10, 1});
  TG_CHECK_VALUES(y.grad(), {1, 1, 10});
}

TEST_CASE("every unary op passes gradcheck on several shapes") {
  tg::manual_seed(4);
  const tg::Shape shapes[] = {{}, {5}, {2, 3}, {2, 1, 3}};
  for (const auto& op : unary_ops()) {
    SUBCASE(op.label) {
      for (const tg::Shape& shape : shapes) {
        const auto rank = shape.size();
        CAPTURE(rank);
        // Kinked ops are sampled away from their kinks (|x| >= 0.2).
        const tg::Tensor input =
            op.kinked ? signed_away_from_zero(shape) : uniform(shape, op.lo, op.hi);
        TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return op.fn(in[0]); },
                           {input});
      }
    }
  }
}

TEST_CASE("maximum and minimum pass gradcheck with broadcasting") {
  tg::manual_seed(5);
  // a ends up in [−1, 1] ∪ (1.5, 3.5) and b lies in [1.05, 1.1): no pair is ever tied.
  const tg::Tensor a = uniform({3, 4}, -1.0, 3.0);
  const tg::Tensor b = uniform({4}, 1.05, 1.1);
  const tg::Tensor a_away =
      (a + tg::gt(a, tg::scalar(1.0, {.dtype = tg::f64})) * 0.5).detach().set_requires_grad();
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::maximum(in[0], in[1]); },
                     {a_away, b});
  TG_CHECK_GRADCHECK([](const std::vector<tg::Tensor>& in) { return tg::minimum(in[0], in[1]); },
                     {a_away, b});
}

TEST_CASE("every unary op's f32 kernel agrees with its f64 one") {
  tg::manual_seed(6);
  for (const auto& op : unary_ops()) {
    SUBCASE(op.label) {
      const tg::Tensor x64 = tg::rand({257}, {.dtype = tg::f64}) * (op.hi - op.lo) + op.lo;
      const tg::Tensor x32 = x64.to(tg::f32);
      const tg::Tensor out = op.fn(x32);
      CHECK(out.dtype() == tg::f32);
      // The f64 op on the same (f32-rounded) inputs, compared relatively: exp reaches e^4.25.
      const std::vector<double> expected = op.fn(x32.to(tg::f64)).to_vector();
      const std::vector<double> actual = out.to_vector();
      for (size_t i = 0; i < expected.size(); ++i)
        CHECK(std::abs(actual[i] - expected[i]) <= 1e-5 * (1 + std::abs(expected[i])));
    }
  }
}

TEST_CASE("every unary op's plain backward equals its recorded one bit for bit, f32 and f64") {
  // A plain backward may take an op's derivative in one pass (relu, pow, tanh, sigmoid); under
  // create_graph it is spelled with recorded ops. Both must give the same numbers.
  tg::manual_seed(7);
  for (const auto& op : unary_ops()) {
    for (const tg::DType dtype : {tg::f64, tg::f32}) {
      CAPTURE(op.label);
      CAPTURE(tg::dtype_name(dtype));
      const tg::Tensor values = tg::rand({300}, {.dtype = tg::f64}) * (op.hi - op.lo) + op.lo;
      const tg::Tensor weights = tg::randn({300}, {.dtype = dtype});
      auto gradient = [&](bool create_graph) {
        // tg::grad, not backward(): under create_graph a .grad() would hold a graph that holds
        // its own leaf, a cycle never freed.
        tg::Tensor x = values.to(dtype).clone().set_requires_grad();
        const tg::Tensor y = (op.fn(x) * weights).sum();
        return tg::grad({y}, {x}, {}, {.create_graph = create_graph})[0].detach().to_vector();
      };
      CHECK(gradient(false) == gradient(true));
    }
  }
}

TEST_CASE("integer inputs of floating unary ops compute in f32") {
  const tg::Tensor x = tg::tensor({1, 2}, {.dtype = tg::i64});
  CHECK(tg::exp(x).dtype() == tg::f32);
  CHECK(tg::gelu(x).dtype() == tg::f32);
  CHECK(tg::softplus(x).dtype() == tg::f32);
  CHECK(tg::square(x).dtype() == tg::i64);
  TG_CHECK_VALUES(tg::square(x), {1, 4});
}

TEST_CASE("softplus, silu and elu stay finite and exact at the extremes") {
  tg::Tensor x = tg::tensor({-1000.0, 1000.0}, {.dtype = tg::f64, .requires_grad = true});
  SUBCASE("softplus") {
    const tg::Tensor y = tg::softplus(x);
    TG_CHECK_VALUES(y, {0, 1000});
    y.sum().backward();
    TG_CHECK_VALUES(x.grad(), {0, 1});
  }
  SUBCASE("silu") {
    const tg::Tensor y = tg::silu(x);
    TG_CHECK_VALUES(y, {0, 1000});
    y.sum().backward();
    TG_CHECK_VALUES(x.grad(), {0, 1});
  }
  SUBCASE("elu") {
    const tg::Tensor y = tg::elu(x);
    TG_CHECK_VALUES(y, {-1, 1000});
    y.sum().backward();
    TG_CHECK_VALUES(x.grad(), {0, 1});
  }
  SUBCASE("gelu") {
    const tg::Tensor y = tg::gelu(x);
    TG_CHECK_VALUES(y, {0, 1000});
    y.sum().backward();
    TG_CHECK_VALUES(x.grad(), {0, 1});
  }
}

// exp, sigmoid, sqrt and tanh differentiate through their saved output, as PyTorch's do, so a
// write to their input leaves their backward right; every other op reads its input.
TEST_CASE("every unary op refuses a backward after its saved input was written in place") {
  const std::vector<std::string> reads_only_its_output = {"exp", "sigmoid", "sqrt", "tanh"};
  tg::manual_seed(5);
  for (const auto& op : unary_ops()) {
    const std::string label = op.label;
    CAPTURE(label);
    tg::Tensor x = uniform({4}, op.lo, op.hi);
    const tg::Tensor loss = op.fn(x).sum();
    {
      tg::NoGradGuard no_grad;
      x.copy_(x.detach().clone());  // the same values, one version later
    }
    if (std::ranges::find(reads_only_its_output, label) != reads_only_its_output.end()) {
      CHECK_NOTHROW(loss.backward());
      continue;
    }
    const std::string message = tg::testing::error_message([&] { loss.backward(); });
    CHECK(tg::testing::contains(message, op.record));
    CHECK(tg::testing::contains(message, "modified by an inplace operation"));
  }
}
