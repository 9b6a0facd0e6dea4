// tg::gradcheck itself: it passes correct gradients, catches wrong ones and says where.
#include "support/testing.hpp"

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

}  // namespace

TEST_CASE("gradcheck passes a correct function with several inputs and a matrix output") {
  const tg::Tensor a = leaf({0.5, -1, 2, 0.25}, {2, 2});
  const tg::Tensor b = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto result = tg::gradcheck(
      [](const std::vector<tg::Tensor>& in) { return tg::tanh(tg::matmul(in[0], in[1])); }, {a, b});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(result.max_abs_error < 1e-7);
}

TEST_CASE("gradcheck fails a wrong backward and names the input and element") {
  const tg::Tensor x = leaf({1, 2}, {2});
  const tg::Tensor y = leaf({3, 5}, {2});
  const auto result = tg::gradcheck(
      [](const std::vector<tg::Tensor>& in) { return WrongProduct::apply(in[0], in[1]); }, {x, y});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  // d(xy)/dy at element 1 is x₁ = 2; the wrong backward says 4.
  CHECK(contains(result.report,
                 "input 1 [2], element [1] -> output [1]: analytical 4, "
                 "numerical 2"));
  CHECK_FALSE(contains(result.report, "input 0"));  // x's gradient is right
  CHECK(result.max_abs_error == doctest::Approx(2.0).epsilon(1e-6));
}

TEST_CASE("gradcheck skips inputs that do not require grad") {
  const tg::Tensor x = leaf({1, 2}, {2});
  const tg::Tensor constant = tg::tensor({3, 5}, {.dtype = tg::f64});
  const auto result = tg::gradcheck(
      [](const std::vector<tg::Tensor>& in) { return WrongProduct::apply(in[0], in[1]); },
      {x, constant});
  CHECK_MESSAGE(result.ok, result.report);
}

TEST_CASE("gradcheck options: a loose tolerance accepts what a strict one rejects") {
  const tg::Tensor x = leaf({1, 2}, {2});
  const tg::Tensor y = leaf({3, 5}, {2});
  auto wrong = [](const std::vector<tg::Tensor>& in) { return WrongProduct::apply(in[0], in[1]); };
  CHECK_FALSE(tg::gradcheck(wrong, {x, y}).ok);
  CHECK(tg::gradcheck(wrong, {x, y}, {.eps = 1e-6, .atol = 3.0, .rtol = 0.0}).ok);
}

TEST_CASE("gradgradcheck checks second derivatives") {
  const tg::Tensor x = leaf({0.3, -0.7, 1.1}, {3});
  const auto result = tg::gradgradcheck(
      [](const std::vector<tg::Tensor>& in) { return tg::tanh(in[0]) * tg::exp(in[0]); }, {x});
  CHECK_MESSAGE(result.ok, result.report);
}

TEST_CASE("a gradcheck report gives the input's value at the failing element") {
  const tg::Tensor x = leaf({1, 2}, {2});
  const tg::Tensor y = leaf({3, 5}, {2});
  const auto wrong = [](const std::vector<tg::Tensor>& in) {
    return WrongProduct::apply(in[0], in[1]);
  };
  SUBCASE("unnamed inputs are numbered") {
    const auto result = tg::gradcheck(wrong, {x, y});
    CAPTURE(result.report);
    // d(x₀y₀)/dy₀ = x₀ = 1, the wrong backward says 2, at y₀ = 3; element [1]: 2 vs 4 at y₁ = 5.
    CHECK(contains(result.report,
                   "input 1 [2], element [0] -> output [0]: analytical 2, numerical 1, "
                   "input value 3 ("));
    CHECK(contains(result.report,
                   "input 1 [2], element [1] -> output [1]: analytical 4, numerical 2, "
                   "input value 5 ("));
  }
  SUBCASE("named inputs are reported as name[index]") {
    const auto result = tg::gradcheck(wrong, {x, y}, {.input_names = {"x", "y"}});
    CAPTURE(result.report);
    CHECK(
        contains(result.report, "y[1] -> output [1]: analytical 4, numerical 2, input value 5 ("));
    CHECK_FALSE(contains(result.report, "input 1"));
  }
}
