// tg::nn::Sequential: order, names, push_back, indexing, typed access, gradcheck, errors.
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::set_values;

namespace {

std::vector<std::string> names(const tg::nn::Module& module) {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : module.named_parameters()) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("Sequential applies its modules in order and names parameters by index") {
  tg::nn::Sequential model(tg::nn::Linear(2, 2), tg::nn::ReLU(), tg::nn::Linear(2, 1));
  CHECK(model.size() == 3);
  CHECK(names(model) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  auto& first = model.at<tg::nn::Linear>(0);
  auto& last = model.at<tg::nn::Linear>(2);
  set_values(first.weight, {1, -1, 2, 1});
  set_values(first.bias, {0, -4});
  set_values(last.weight, {3, 0.5});
  set_values(last.bias, {1});
  // x = [1, 2]: first layer [1−2+0, 2+2−4] = [−1, 0]; relu [0, 0]; last 3·0 + 0.5·0 + 1 = 1
  // x = [3, 1]: first layer [3−1, 6+1−4] = [2, 3]; relu [2, 3]; last 6 + 1.5 + 1 = 8.5
  TG_CHECK_VALUES(model(tg::tensor({1, 2, 3, 1}, {2, 2})), {1, 8.5});
}

TEST_CASE("Sequential built with braces, grown with push_back, and empty") {
  tg::nn::Sequential model{tg::nn::Linear(3, 4), tg::nn::Tanh()};
  tg::nn::Linear& added = model.push_back(tg::nn::Linear(4, 2));
  CHECK(model.size() == 3);
  CHECK(&model[2] == &added);
  CHECK(names(model).back() == "2.bias");
  CHECK(model(tg::ones({5, 3})).shape() == tg::Shape{5, 2});

  tg::nn::Sequential empty;
  CHECK(empty.empty());
  const tg::Tensor x = tg::ones({2});
  CHECK(empty(x).impl() == x.impl());
}

TEST_CASE("Sequential nests, and moves keep references to its modules valid") {
  tg::nn::Sequential inner(tg::nn::Linear(2, 2));
  tg::nn::Sequential outer(std::move(inner), tg::nn::Sigmoid(), tg::nn::Linear(2, 1));
  CHECK(names(outer) == std::vector<std::string>{"0.0.weight", "0.0.bias", "2.weight", "2.bias"});
  tg::nn::Linear& last = outer.at<tg::nn::Linear>(2);
  tg::nn::Sequential moved(std::move(outer));
  CHECK(&moved.at<tg::nn::Linear>(2) == &last);
  // The one-argument form is a move, not a nesting: the parameters keep their names.
  CHECK(names(moved).front() == "0.0.weight");
}

TEST_CASE("Sequential passes gradcheck in f64 through every layer's parameters") {
  tg::manual_seed(9);
  tg::nn::Sequential model(tg::nn::Linear(3, 4), tg::nn::Tanh(), tg::nn::Linear(4, 2));
  model.to(tg::f64);
  const tg::Tensor x = tg::randn({2, 3}, {.dtype = tg::f64, .requires_grad = true});
  std::vector<tg::Tensor> inputs{x};
  for (const tg::Tensor& p : model.parameters()) inputs.push_back(p);
  TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return model(in[0]); }, inputs);
}

TEST_CASE("Sequential's accessors throw tg::Error for a bad index or type") {
  tg::nn::Sequential model(tg::nn::Linear(2, 2), tg::nn::ReLU());
  TG_CHECK_ERROR(model[2], "Sequential", "2", "2 modules");
  TG_CHECK_ERROR(model.at<tg::nn::Linear>(1), "Sequential::at", "ReLU", "Linear");
  TG_CHECK_ERROR(model.at<tg::nn::Linear>(5), "Sequential", "5");
  TG_CHECK_ERROR(model(tg::ones({1, 3})), "Linear", "[1, 3]");
}

TEST_CASE("Sequential runs a Linear followed by a ReLU as one linear_relu, unchanged in effect") {
  tg::manual_seed(10);
  tg::nn::Sequential model(tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2),
                           tg::nn::ReLU());
  model.to(tg::f64);
  const tg::Tensor x = tg::randn({5, 3}, {.dtype = tg::f64});
  const tg::Tensor out = model(x);
  const std::string tape = tg::autograd::format_tape(out);
  CAPTURE(tape);
  CHECK(tg::testing::contains(tape, "linear_relu"));
  CHECK_FALSE(tg::testing::contains(tape, "relu ["));

  SUBCASE("the same values and gradients as the layers one by one") {
    auto& first = model.at<tg::nn::Linear>(0);
    auto& second = model.at<tg::nn::Linear>(2);
    const tg::Tensor g = tg::randn({5, 2}, {.dtype = tg::f64});
    (out * g).sum().backward();
    std::vector<std::vector<double>> fused;
    for (const tg::Tensor& p : model.parameters()) fused.push_back(p.grad().to_vector());
    model.zero_grad();
    const tg::Tensor by_hand = tg::relu(
        tg::linear(tg::relu(tg::linear(x, first.weight, first.bias)), second.weight, second.bias));
    CHECK(tg::testing::all_close(out.to_vector(), by_hand.to_vector(), 1e-12));
    (by_hand * g).sum().backward();
    const std::vector<tg::Tensor> parameters = model.parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
      CAPTURE(i);
      CHECK(tg::testing::all_close(fused[i], parameters[i].grad().to_vector(), 1e-12));
    }
  }
  SUBCASE("gradcheck and gradgradcheck through the fused layers") {
    const tg::Tensor input = tg::randn({2, 3}, {.dtype = tg::f64, .requires_grad = true});
    std::vector<tg::Tensor> inputs{input};
    for (const tg::Tensor& p : model.parameters()) inputs.push_back(p);
    auto f = [&](const std::vector<tg::Tensor>& in) { return model(in[0]); };
    TG_CHECK_GRADCHECK(f, inputs);
    const auto second = tg::gradgradcheck(f, inputs);
    CHECK_MESSAGE(second.ok, second.report);
  }
  SUBCASE("a bad input is refused with Linear's own message") {
    TG_CHECK_ERROR(model(tg::ones({2, 5}, {.dtype = tg::f64})),
                   "Linear(in_features=3, out_features=4): input [2, 5] must have 3");
  }
}

namespace {

// A Linear whose forward doubles its output: Sequential must call it, not fuse around it.
struct DoublingLinear : tg::nn::Linear {
  using tg::nn::Linear::Linear;
  tg::Tensor forward(const tg::Tensor& input) override {
    return tg::nn::Linear::forward(input) * 2.0;
  }
};

}  // namespace

TEST_CASE("Sequential fuses only a plain Linear, and summary still sees every module") {
  tg::nn::Sequential model(DoublingLinear(1, 1), tg::nn::ReLU());
  auto& layer = model.at<DoublingLinear>(0);
  set_values(layer.weight, {3});
  set_values(layer.bias, {-1});
  // relu(2·(3x − 1)) at x = 1, 0: 4, 0
  TG_CHECK_VALUES(model(tg::tensor({1, 0}, {2, 1})), {4, 0});

  tg::nn::Sequential plain(tg::nn::Linear(4, 3), tg::nn::ReLU(), tg::nn::Linear(3, 2));
  const std::string table = tg::nn::summary(plain, {2, 4});
  CAPTURE(table);
  // Each module's own row, with its own output shape: the ReLU was called, not fused away.
  CHECK(tg::testing::contains(table, "0      Linear  [2, 3]            15"));
  CHECK(tg::testing::contains(table, "1      ReLU    [2, 3]             0"));
  CHECK(tg::testing::contains(table, "2      Linear  [2, 2]             8"));
}
