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
