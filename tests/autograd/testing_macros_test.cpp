// <tapegrad/testing.hpp> under doctest: TG_CHECK_GRADIENTS and TG_CHECK_GRADGRADIENTS in one line,
// and the message a failing one gives.
// doctest first: the macros report through whichever framework is included before them.
// clang-format off
#include "support/testing.hpp"
#include <tapegrad/testing.hpp>
// clang-format on

using tg::testing::contains;
using tg::testing::leaf;

namespace {

// x·y with the gradient for y off by a factor of 2 at every element.
struct WrongProduct : tg::autograd::Function<WrongProduct> {
  static constexpr const char* name = "wrong_product";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x,
                            const tg::Tensor& y) {
    ctx->save_for_backward({x, y});
    return x * y;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    return {grad_outputs[0] * saved[1], grad_outputs[0] * saved[0] * 2.0};
  }
};

tg::Tensor wrong_product(const std::vector<tg::Tensor>& in) {
  return WrongProduct::apply(in[0], in[1]);
}

// x² whose backward computes 2x·g in a raw loop: right values, but no graph for a second
// derivative.
struct SquareWithoutGraph : tg::autograd::Function<SquareWithoutGraph> {
  static constexpr const char* name = "square_without_graph";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const std::vector<double> x = ctx->get_saved_variables()[0].to_vector();
    std::vector<double> dx = grad_outputs[0].to_vector();
    for (size_t i = 0; i < dx.size(); ++i) dx[i] *= 2.0 * x[i];
    return {tg::tensor(dx, grad_outputs[0].shape(), {.dtype = grad_outputs[0].dtype()})};
  }
};

}  // namespace

TEST_CASE("TG_CHECK_GRADIENTS passes correct functions in one line, with and without options") {
  const tg::Tensor x = leaf({0.3, -0.7, 1.1}, {3});
  const tg::Tensor y = leaf({2.0, 0.5, -1.0}, {3});
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::tanh(in[0]) * in[1]; }, {x, y});
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::exp(in[0]).sum(); }, {x},
                     {.samples = 4, .seed = 7});
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::relu(in[0]); }, {leaf({0.0, 1.0}, {2})},
                     {.at_kinks = tg::AtKinks::skip});
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::sigmoid(in[0]); }, {x},
                     {.mode = tg::GradcheckMode::forward});
  TG_CHECK_GRADGRADIENTS([](const auto& in) { return tg::tanh(in[0]) * tg::exp(in[1]); }, {x, y});
  TG_CHECK_GRADGRADIENTS([](const auto& in) { return tg::tanh(in[0]); }, {x}, {.samples = 3});
}

TEST_CASE(
    "a failing check's message has the check as written, the whole report, the inputs' "
    "values and the seed") {
  const tg::Tensor x = leaf({1, 2}, {2});
  const tg::Tensor y = leaf({3, 5}, {2});
  const tg::testing::GradientCheck check =
      tg::testing::check_gradients("wrong_product, {x, y}", false, wrong_product, {x, y});
  CAPTURE(check.message);
  CHECK_FALSE(check.ok);
  CHECK(contains(check.message,
                 "TG_CHECK_GRADIENTS(wrong_product, {x, y}) failed\n"
                 "gradcheck failed (2 mismatching Jacobian entries):\n"));
  CHECK(contains(check.message,
                 "input 1 [2], element [1] -> output [1]: analytical 4, "
                 "numerical 2, input value 5 ("));
  CHECK(contains(check.message,
                 "inputs as given:\n  input 0 [2] f64 = [1, 2]\n"
                 "  input 1 [2] f64 = [3, 5]\n"));
  CHECK(contains(check.message, "seed 0, samples 1"));
  const tg::testing::GradientCheck named = tg::testing::check_gradients(
      "...", true, [](const auto& in) { return SquareWithoutGraph::apply(in[0]) * in[1]; }, {x, y},
      {.input_names = {"x", "y"}, .seed = 42});
  CAPTURE(named.message);
  CHECK_FALSE(named.ok);
  CHECK(contains(named.message, "TG_CHECK_GRADGRADIENTS(...) failed\n"));
  CHECK(contains(named.message, "  y [2] f64 = [3, 5]\n"));
  CHECK(contains(named.message, "seed 42, samples 1"));
  CHECK(
      tg::testing::check_gradients("", false, [](const auto& in) { return in[0] * in[1]; }, {x, y})
          .ok);
  CHECK(
      tg::testing::check_gradients("", false, [](const auto& in) { return in[0] * in[1]; }, {x, y})
          .message.empty());
}

TEST_CASE("a failing TG_CHECK_GRADIENTS fails its test case and lets it go on" *
          doctest::should_fail()) {
  const tg::Tensor x = leaf({1, 2}, {2});
  const tg::Tensor y = leaf({3, 5}, {2});
  bool went_on = false;
  TG_CHECK_GRADIENTS(wrong_product, {x, y});
  went_on = true;
  REQUIRE(went_on);  // a CHECK-like failure: the case continues to here
}

TEST_CASE("a failing TG_CHECK_GRADGRADIENTS fails its test case" * doctest::should_fail()) {
  // The first derivative's values are right but have no graph, so the second is lost.
  TG_CHECK_GRADGRADIENTS([](const auto& in) { return SquareWithoutGraph::apply(in[0]); },
                         {leaf({1, 2}, {2})});
}
