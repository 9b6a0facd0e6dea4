// gradcheck's options of round three: random points and their seed, a sampler, kinks told apart
// from wrong derivatives, f32 code checked through f64, and forward mode.
#include <type_traits>

#include "support/testing.hpp"

using tg::testing::contains;
using tg::testing::error_message;
using tg::testing::leaf;

namespace {

// x³ whose backward says 3x·|x|: right for x > 0, wrong (the sign) for x < 0.
struct CubeRightForPositive : tg::autograd::Function<CubeRightForPositive> {
  static constexpr const char* name = "cube_right_for_positive";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * 3.0 * x * tg::abs(x)};
  }
};

tg::Tensor cube_right_for_positive(const std::vector<tg::Tensor>& in) {
  return CubeRightForPositive::apply(in[0]);
}

// relu whose backward says 5 at x = 0 (1 above, 0 below): at the kink, outside both slopes.
struct ReluWrongAtZero : tg::autograd::Function<ReluWrongAtZero> {
  static constexpr const char* name = "relu_wrong_at_zero";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return tg::relu(x);
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    const tg::Tensor zero = tg::scalar(0.0, {.dtype = x.dtype()});
    const tg::Tensor slope = tg::gt(x, zero) + tg::eq(x, zero) * 5.0;
    return {grad_outputs[0] * slope};
  }
};

// softplus(x) = log(1 + eˣ) on raw buffers, one template for f32 and f64, as a user's kernel
// is written; with `FastF32` the f32 backward uses the coarse sigmoid x / (1 + |x|) / 2 + 1/2
// (a SIMD shortcut gone wrong) while f64 stays exact.
template <class T, bool FastF32>
void softplus_backward_kernel(const T* x, const T* g, T* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T sigmoid = T(1) / (T(1) + std::exp(-x[i]));
    if constexpr (FastF32 && std::is_same_v<T, float>)
      sigmoid = x[i] / (T(1) + std::abs(x[i])) / T(2) + T(0.5);
    dx[i] = g[i] * sigmoid;
  }
}

template <bool FastF32>
struct Softplus : tg::autograd::Function<Softplus<FastF32>> {
  static constexpr const char* name = "softplus_kernel";
  template <class T>
  static tg::Tensor run_forward(const tg::Tensor& x) {
    const tg::Tensor xc = x.detach();
    tg::Tensor y = tg::zeros(x.shape(), {.dtype = x.dtype()});
    const T* in = xc.data<T>();
    T* out = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = std::log1p(std::exp(in[i]));
    return y;
  }
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x.dtype() == tg::f32 ? run_forward<float>(x) : run_forward<double>(x);
  }
  template <class T>
  static tg::Tensor run_backward(const tg::Tensor& x, const tg::Tensor& g) {
    const tg::Tensor xc = x.detach();
    const tg::Tensor gc = g.detach().to(x.dtype());
    tg::Tensor dx = tg::zeros(x.shape(), {.dtype = x.dtype()});
    softplus_backward_kernel<T, FastF32>(xc.data<T>(), gc.data<T>(), dx.data<T>(), x.numel());
    return dx;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    return {x.dtype() == tg::f32 ? run_backward<float>(x, grad_outputs[0])
                                 : run_backward<double>(x, grad_outputs[0])};
  }
};

// x³ whose backward has the right values but computes them in a raw loop, so the gradient has
// no graph: right to first order, wrong to second (its derivative along the output is lost),
// which is what jvp differentiates.
struct CubeWithoutGraph : tg::autograd::Function<CubeWithoutGraph> {
  static constexpr const char* name = "cube_without_graph";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const std::vector<double> x = ctx->get_saved_variables()[0].to_vector();
    const std::vector<double> g = grad_outputs[0].to_vector();
    std::vector<double> dx(x.size());
    for (size_t i = 0; i < x.size(); ++i) dx[i] = g[i] * 3.0 * x[i] * x[i];
    return {tg::tensor(dx, grad_outputs[0].shape(), {.dtype = grad_outputs[0].dtype()})};
  }
};

}  // namespace

TEST_CASE(
    "samples: a derivative right at the given point and wrong elsewhere fails at a random "
    "point, reported by index and seed") {
  const tg::Tensor x = leaf({0.5, 1.5, 2.0}, {3});
  CHECK_MESSAGE(tg::gradcheck(cube_right_for_positive, {x}).ok, "right for x > 0");
  const auto result = tg::gradcheck(cube_right_for_positive, {x}, {.samples = 6, .seed = 11});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  CHECK(result.failed_point >= 1);
  CHECK(contains(result.report, "gradcheck failed at "));
  CHECK(contains(result.report, " of 6 points (seed 11):\n"));
  CHECK(contains(result.report, "(random, seed 11), at\n  input 0 = ["));
  CHECK_FALSE(contains(result.report, "point 0"));  // the given point is right
  // The failing entries are where the drawn x is negative: the analytical value has the
  // opposite sign of the numerical one.
  CHECK(contains(result.report, "input 0 [3], element ["));
  // The given values are back afterwards.
  CHECK(x.to_vector() == std::vector<double>{0.5, 1.5, 2.0});
}

TEST_CASE("samples: a sampler keeps the points inside the function's domain") {
  const tg::Tensor x = leaf({0.5, 1.5, 2.0}, {3});
  const auto positive = [](const tg::Shape& shape, tg::DType dtype) {
    return tg::rand(shape, {.dtype = dtype}) * 3.0 + 0.1;
  };
  const auto result =
      tg::gradcheck(cube_right_for_positive, {x}, {.samples = 8, .sampler = positive});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(contains(result.report,
                 "gradcheck passed at 8 points (the given inputs and 7 random, "
                 "seed 0)"));
  // log is defined for x > 0 only: normal draws would give NaN, the sampler's do not.
  const auto log_result = tg::gradcheck([](const auto& in) { return tg::log(in[0]); }, {x},
                                        {.samples = 5, .sampler = positive});
  CHECK_MESSAGE(log_result.ok, log_result.report);
}

TEST_CASE(
    "samples: the same seed checks the same points, another seed others, and the caller's "
    "random stream is untouched") {
  const tg::Tensor x = leaf({0.5, 1.5, 2.0}, {3});
  tg::manual_seed(3);
  const std::vector<double> expected_next = tg::rand({4}, {.dtype = tg::f64}).to_vector();
  tg::manual_seed(3);
  const auto first = tg::gradcheck(cube_right_for_positive, {x}, {.samples = 6, .seed = 11});
  CHECK(tg::rand({4}, {.dtype = tg::f64}).to_vector() == expected_next);
  const auto again = tg::gradcheck(cube_right_for_positive, {x}, {.samples = 6, .seed = 11});
  const auto other = tg::gradcheck(cube_right_for_positive, {x}, {.samples = 6, .seed = 12});
  CHECK(first.report == again.report);
  CHECK(first.report != other.report);
}

TEST_CASE("samples: inputs that do not require grad keep their given values at random points") {
  const tg::Tensor x = leaf({0.5, -1.0}, {2});
  const tg::Tensor offset = tg::tensor({100.0, 200.0}, {.dtype = tg::f64});
  // d/dx of (x + offset)² is 2(x + offset): checked with the offset as given at every point.
  const auto result =
      tg::gradcheck([](const auto& in) { return (in[0] + in[1]) * (in[0] + in[1]); }, {x, offset},
                    {.samples = 4});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(offset.to_vector() == std::vector<double>{100.0, 200.0});
}

TEST_CASE("samples: a bad sample count or a sampler of the wrong shape is refused") {
  const tg::Tensor x = leaf({0.5, 1.5}, {2});
  const auto identity = [](const std::vector<tg::Tensor>& in) { return in[0] * 1.0; };
  CHECK_THROWS_AS(tg::gradcheck(identity, {x}, {.samples = 0}), tg::Error);
  CHECK(contains(error_message([&] { tg::gradcheck(identity, {x}, {.samples = 0}); }),
                 "gradcheck: samples must be at least 1"));
  const auto wrong_shape = [](const tg::Shape&, tg::DType dtype) {
    return tg::zeros({5}, {.dtype = dtype});
  };
  CHECK_THROWS_AS(tg::gradcheck(identity, {x}, {.samples = 2, .sampler = wrong_shape}), tg::Error);
  CHECK(contains(
      error_message([&] { tg::gradcheck(identity, {x}, {.samples = 2, .sampler = wrong_shape}); }),
      "gradcheck: the sampler returned shape [5] for input 0 of shape [2]"));
  CHECK(x.to_vector() == std::vector<double>{0.5, 1.5});  // put back after the throw
}

TEST_CASE(
    "kinks: relu, abs, clamp, max, min, maximum and minimum at (or within eps of) their "
    "kinks are reported as non-differentiable points, skipped or failed as asked") {
  struct Kink {
    std::string op;
    std::function<tg::Tensor(const std::vector<tg::Tensor>&)> fn;
    std::vector<double> at;
    // The one-sided slopes (left, then right) of output element 0 along input element 0, from
    // the op's definition, where they are round numbers; else only the kind is checked.
    std::string slopes;
  };
  const auto half = [] { return tg::full({1}, 0.5, {.dtype = tg::f64}); };
  const std::vector<Kink> kinks = {
      {"relu at 0", [](const auto& in) { return tg::relu(in[0]); }, {0.0}, "0 and 1"},
      {"clamp at hi", [](const auto& in) { return tg::clamp(in[0], -1.0, 1.0); }, {1.0}, "1 and 0"},
      {"clamp at lo",
       [](const auto& in) { return tg::clamp(in[0], -1.0, 1.0); },
       {-1.0},
       "0 and 1"},
      // Exactly at 0, abs's derivative 0 is the mean of its slopes and central differences
      // agree; 4e-7 away (inside eps = 1e-6) they do not: slopes -0.2 and 1.
      {"abs near 0", [](const auto& in) { return tg::abs(in[0]); }, {4e-7}, ""},
      {"max near a tie", [](const auto& in) { return tg::max(in[0]); }, {2.0 + 3e-7, 2.0, 1.0}, ""},
      {"min near a tie",
       [](const auto& in) { return tg::min(in[0]); },
       {-1.0 - 3e-7, 3.0, -1.0},
       ""},
      {"maximum near equal arguments",
       [half](const auto& in) { return tg::maximum(in[0], half()); },
       {0.5 + 3e-7},
       ""},
      {"minimum near equal arguments",
       [half](const auto& in) { return tg::minimum(in[0], half()); },
       {0.5 - 3e-7},
       ""},
  };
  for (const Kink& kink : kinks) {
    CAPTURE(kink.op);
    const tg::Tensor x = leaf(kink.at, {static_cast<int64_t>(kink.at.size())});
    const std::string line = "input 0 [" + std::to_string(kink.at.size()) +
                             "], element [0] -> output [" + (kink.at.size() > 1 ? "" : "0") +
                             "]: non-differentiable point (one-sided slopes " + kink.slopes;
    const auto failed = tg::gradcheck(kink.fn, {x});
    CAPTURE(failed.report);
    CHECK_FALSE(failed.ok);
    CHECK(failed.kinks == (kink.at.size() > 1 ? 2 : 1));  // near a tie: both tied elements
    CHECK(contains(failed.report, line));
    CHECK_FALSE(contains(failed.report, "numerical"));  // not reported as a wrong derivative
    const auto skipped = tg::gradcheck(kink.fn, {x}, {.at_kinks = tg::AtKinks::skip});
    CAPTURE(skipped.report);
    CHECK(skipped.ok);
    CHECK(skipped.kinks == failed.kinks);
    CHECK(contains(skipped.report, " non-differentiable point(s) skipped:\n" + line));
  }
}

TEST_CASE("kinks: where the derivative at a kink is the mean of its slopes, nothing is reported") {
  // abs at 0 (derivative 0), a tie in max (the gradient split evenly) and equal arguments of
  // maximum: central differences give the same mean, so the plain check passes as it did.
  const tg::Tensor zero = leaf({0.0}, {1});
  const tg::Tensor tie = leaf({2.0, 2.0, 1.0}, {3});
  for (const auto& [fn, x] : std::vector<
           std::pair<std::function<tg::Tensor(const std::vector<tg::Tensor>&)>, tg::Tensor>>{
           {[](const auto& in) { return tg::abs(in[0]); }, zero},
           {[](const auto& in) { return tg::max(in[0]); }, tie},
           {[](const auto& in) { return tg::min(in[0] * -1.0); }, tie}}) {
    const auto result = tg::gradcheck(fn, {x});
    CHECK_MESSAGE(result.ok, result.report);
    CHECK(result.kinks == 0);
  }
}

TEST_CASE("kinks: a kink within eps of the point is one too, and a smooth point is not") {
  // relu at 3e-7 with eps 1e-6: the left difference crosses the kink (slope 0.3), the right one
  // does not (slope 1).
  const tg::Tensor near = leaf({3e-7}, {1});
  const auto result = tg::gradcheck([](const auto& in) { return tg::relu(in[0]); }, {near});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  CHECK(contains(result.report, "non-differentiable point (one-sided slopes 0.3"));
  const tg::Tensor away = leaf({0.25, -0.25}, {2});
  const auto smooth = tg::gradcheck([](const auto& in) { return tg::relu(in[0]); }, {away});
  CHECK_MESSAGE(smooth.ok, smooth.report);
  CHECK(smooth.kinks == 0);
}

TEST_CASE("kinks: a derivative outside both one-sided slopes fails even when kinks are skipped") {
  const tg::Tensor x = leaf({0.0, 1.0, -1.0}, {3});
  const auto result = tg::gradcheck([](const auto& in) { return ReluWrongAtZero::apply(in[0]); },
                                    {x}, {.at_kinks = tg::AtKinks::skip});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  CHECK(contains(result.report,
                 "input 0 [3], element [0] -> output [0]: analytical 5, outside the one-sided "
                 "slopes 0 and 1 of a non-differentiable point, input value 0"));
  CHECK_FALSE(contains(result.report, "element [1]"));  // right away from the kink
}

TEST_CASE("upcast: f32 inputs are refused without it and checked in f64 with it") {
  const tg::Tensor x = tg::tensor({0.5f, -1.25f, 2.0f}, {.dtype = tg::f32, .requires_grad = true});
  const auto tanh_fn = [](const std::vector<tg::Tensor>& in) { return tg::tanh(in[0]); };
  const std::string refused = error_message([&] { tg::gradcheck(tanh_fn, {x}); });
  CHECK(contains(refused, "gradcheck: input 0 is f32 (shape [3])"));
  CHECK(contains(refused, "{.upcast = true}"));
  const auto result = tg::gradcheck(tanh_fn, {x}, {.upcast = true});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(contains(result.report, "; f32 run agrees with f64 (max |difference| "));
  CHECK(x.dtype() == tg::f32);
  CHECK(x.to_vector() == std::vector<double>{0.5, -1.25, 2.0});
  const auto second = tg::gradgradcheck(tanh_fn, {x}, {.upcast = true});
  CHECK_MESSAGE(second.ok, second.report);
  const auto sampled = tg::gradcheck(tanh_fn, {x}, {.samples = 4, .upcast = true});
  CHECK_MESSAGE(sampled.ok, sampled.report);
  CHECK(x.to_vector() == std::vector<double>{0.5, -1.25, 2.0});
}

TEST_CASE(
    "upcast: a templated kernel is checked in both precisions, and a wrong f32 path fails "
    "naming the element") {
  const tg::Tensor x = tg::tensor({0.5f, -1.25f, 2.0f}, {.dtype = tg::f32, .requires_grad = true});
  const auto exact = tg::gradcheck([](const auto& in) { return Softplus<false>::apply(in[0]); },
                                   {x}, {.upcast = true});
  CHECK_MESSAGE(exact.ok, exact.report);
  const auto fast = tg::gradcheck([](const auto& in) { return Softplus<true>::apply(in[0]); }, {x},
                                  {.upcast = true});
  CAPTURE(fast.report);
  CHECK_FALSE(fast.ok);
  // The f64 path is right, so the differences pass; the f32 path's sigmoid is off.
  CHECK(contains(fast.report, "gradcheck passed: 1 input(s), 3 output element(s)"));
  CHECK(contains(fast.report,
                 "f32 run failed (3 entries differ from f64 beyond f32's "
                 "tolerance):\n"));
  // At x = 0.5: sigmoid 0.6224593 exactly; the shortcut gives 0.5/1.5/2 + 0.5 = 0.6666667.
  CHECK(contains(fast.report,
                 "f32 run: input 0 [3], element [0] -> output [0]: f32 analytical "
                 "0.66666669, f64 analytical 0.6224593312"));
}

TEST_CASE("forward mode: jvp agrees with differences for correct functions") {
  const tg::Tensor a = leaf({0.5, -1, 2, 0.25}, {2, 2});
  const tg::Tensor b = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto result =
      tg::gradcheck([](const auto& in) { return tg::tanh(tg::matmul(in[0], in[1])); }, {a, b},
                    {.mode = tg::GradcheckMode::forward});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(contains(result.report, "gradcheck (forward mode) passed"));
  const tg::Tensor labels = tg::testing::labels({1, 0}, {2});
  const auto with_labels = tg::gradcheck(
      [](const auto& in) { return tg::exp(tg::index_select(in[0], 1, in[1])); },
      {leaf({0.1, 0.7, -0.3, 0.2}, {2, 2}), labels}, {.mode = tg::GradcheckMode::forward});
  CHECK_MESSAGE(with_labels.ok, with_labels.report);
}

TEST_CASE(
    "forward mode: a backward right to first order but wrong to second fails, naming the "
    "element") {
  const tg::Tensor x = leaf({0.5, -1.5, 2.0}, {3});
  const auto cube = [](const auto& in) { return CubeWithoutGraph::apply(in[0]); };
  const auto reverse = tg::gradcheck(cube, {x});
  CHECK_MESSAGE(reverse.ok, reverse.report);  // the values are right
  const auto forward = tg::gradcheck(cube, {x}, {.mode = tg::GradcheckMode::forward});
  CAPTURE(forward.report);
  CHECK_FALSE(forward.ok);
  CHECK(contains(forward.report, "gradcheck (forward mode) failed"));
  CHECK(contains(forward.report, "along random tangent 0: output [0]: jvp 0, numerical "));
  // d(x³)/dx at x₁ = -1.5 is 6.75; jvp sees no graph and says 0.
  CHECK(
      contains(forward.report, "input 0 [3], element [1] -> output [1]: jvp 0, numerical 6.7499"));
  CHECK(contains(forward.report, "input value -1.5"));
  CHECK_FALSE(contains(forward.report, "element [0] -> output [1]"));  // off-diagonal: zero
}
