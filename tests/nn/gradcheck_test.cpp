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

TEST_CASE("module gradcheck with upcast checks an f32 module in f64 and leaves it f32 as it was") {
  tg::manual_seed(3);
  tg::nn::Sequential net;
  net.push_back(tg::nn::Linear(2, 3));
  net.push_back(tg::nn::Tanh());
  net.push_back(tg::nn::Linear(3, 1));
  const tg::Tensor x = inputs.to(tg::f32);
  // The data follows the parameters' dtype: f64 while the module is converted for the check.
  const auto loss = [&] { return net(x.to(net.parameters()[0].dtype())).pow(2.0).sum(); };
  CHECK_THROWS_AS(tg::gradcheck(net, loss), tg::Error);
  CHECK(contains(tg::testing::error_message([&] { tg::gradcheck(net, loss); }),
                 "pass {.upcast = true}"));
  std::vector<std::vector<double>> before;
  for (const tg::Tensor& p : net.parameters()) before.push_back(p.to_vector());
  const auto result = tg::gradcheck(net, loss, {.upcast = true});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(contains(result.report, "; f32 run agrees with f64 (max |difference| "));
  const auto sampled = tg::gradcheck(net, loss, {.samples = 3, .upcast = true});
  CHECK_MESSAGE(sampled.ok, sampled.report);
  for (size_t i = 0; i < net.parameters().size(); ++i) {
    CHECK(net.parameters()[i].dtype() == tg::f32);
    CHECK(net.parameters()[i].to_vector() == before[i]);
  }
}

TEST_CASE("module gradcheck at random points writes them into the parameters and puts them back") {
  tg::manual_seed(3);
  Net net;
  net.to(tg::f64);
  set_values(net.fc1.weight, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
  const auto loss = [&] { return net(inputs).sum(); };
  const auto result = tg::gradcheck(net, loss, {.samples = 3, .seed = 5});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  CHECK(contains(result.report, "failed at 3 of 3 points (seed 5)"));
  CHECK(contains(result.report, "point 2 (random, seed 5), at\n"));
  CHECK(contains(result.report, "fc1.weight[2, 0]"));
  CHECK(net.fc1.weight.to_vector() == std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
}
