// tg::gradcheck over a module's parameters: every parameter checked, failures named "fc1.weight[2,
// 0]".
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::contains;
using tg::testing::set_values;

namespace {

// x Wᵀ whose backward for W is off by one at element [2, 0] only.
struct SlightlyWrongLinear : tg::autograd::Function<SlightlyWrongLinear> {
  static constexpr const char* name = "slightly_wrong_linear";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x,
                            const tg::Tensor& weight) {
    ctx->save_for_backward({x, weight});
    return tg::matmul(x, weight.t());
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const tg::Tensor& g = grad_outputs[0];
    const tg::Tensor slip = tg::tensor({0, 0, 0, 0, 1, 0}, {3, 2}, {.dtype = tg::f64});
    return {tg::matmul(g, saved[1]), tg::matmul(g.t(), saved[0]) + slip};
  }
};

// A layer a user wrote with the slip above.
struct WrongLayer : tg::nn::Module {
  tg::Tensor weight;
  WrongLayer() { weight = register_parameter("weight", tg::zeros({3, 2})); }
  tg::Tensor forward(const tg::Tensor& x) override { return SlightlyWrongLinear::apply(x, weight); }
};

struct Net : tg::nn::Module {
  WrongLayer& fc1 = register_module("fc1", WrongLayer());
  tg::nn::Linear& fc2 = register_module("fc2", tg::nn::Linear(3, 1));
  tg::Tensor forward(const tg::Tensor& x) override { return fc2(tg::tanh(fc1(x))); }
};

const tg::Tensor inputs = tg::tensor({0.5, -1, 2, 0.25}, {2, 2}, {.dtype = tg::f64});

}  // namespace

TEST_CASE("module gradcheck passes a correct module, checking every parameter") {
  tg::manual_seed(3);
  tg::nn::Sequential net;
  net.push_back(tg::nn::Linear(2, 3));
  net.push_back(tg::nn::Tanh());
  net.push_back(tg::nn::Linear(3, 1));
  net.to(tg::f64);
  const auto result = tg::gradcheck(net, [&] { return net(inputs).pow(2.0).sum(); });
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(contains(result.report, "4 input(s)"));  // two weights, two biases
}

TEST_CASE("module gradcheck catches a wrong custom layer and names the parameter and element") {
  tg::manual_seed(3);
  Net net;
  net.to(tg::f64);
  set_values(net.fc1.weight, {0.1, -0.2, 0.3, 0.4, -0.5, 0.6});
  const auto result = tg::gradcheck(net, [&] { return net(inputs).sum(); });
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  // The slip adds 1 to dL/dW[2, 0], whose value is −0.5.
  CHECK(contains(result.report, "fc1.weight[2, 0] -> output []: analytical "));
  CHECK(contains(result.report, "input value -0.5 ("));
  CHECK_FALSE(contains(result.report, "fc1.weight[0, 0]"));
  CHECK_FALSE(contains(result.report, "fc2."));  // fc2 is tg::nn::Linear, and right
  CHECK(result.max_abs_error == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("module gradcheck refuses an f32 module, naming the parameter") {
  tg::nn::Linear fc(2, 1);
  TG_CHECK_ERROR(tg::gradcheck(fc, [&] { return fc(inputs.to(tg::f32)).sum(); }), "gradcheck",
                 "weight", "f32", "module.to(tg::f64)");
}

TEST_CASE("module gradcheck of a module without parameters is an error") {
  tg::nn::Tanh tanh_layer;
  TG_CHECK_ERROR(tg::gradcheck(tanh_layer, [&] { return tanh_layer(inputs).sum(); }), "gradcheck",
                 "no parameter");
}
