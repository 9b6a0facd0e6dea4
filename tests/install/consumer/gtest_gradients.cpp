// <tapegrad/testing.hpp> under GoogleTest, from the installed package: one check that passes and
// one deliberately wrong, whose failure message run_consumer.cmake reads.
#include <gtest/gtest.h>

#include <tapegrad/autograd.hpp>
#include <tapegrad/testing.hpp>

namespace {

// x·y whose backward doubles the gradient for y: the deliberate mistake.
struct WrongProduct : tg::autograd::Function<WrongProduct> {
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

tg::Tensor leaf(std::vector<double> values) {
  const auto n = static_cast<int64_t>(values.size());
  return tg::tensor(std::move(values), {n}, {.dtype = tg::f64, .requires_grad = true});
}

}  // namespace

TEST(Gradients, TanhPasses) {
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::tanh(in[0]); }, {leaf({0.5, -1.0})},
                     {.samples = 3});
}

TEST(Gradients, DeliberatelyWrongBackwardFails) {
  TG_CHECK_GRADIENTS([](const auto& in) { return WrongProduct::apply(in[0], in[1]); },
                     {leaf({1, 2}), leaf({3, 5})}, {.seed = 7});
}
