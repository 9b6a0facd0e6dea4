// The README's code, compiled and run, so the front door stays true to the code.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <tapegrad.hpp>
#include <tapegrad/testing.hpp>
#include <vector>

namespace {

// README, "Gradcheck your own op".
struct Cube : tg::autograd::Function<Cube> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    tg::Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * 3.0 * x * x};  // d(x³)/dx = 3x²
  }
};

// The slip the README shows gradcheck catching: 2x² instead of 3x².
struct WrongCube : tg::autograd::Function<WrongCube> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    tg::Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * 2.0 * x * x};
  }
};

}  // namespace

TEST_CASE("Cube's backward matches finite differences") {
  tg::Tensor x = tg::tensor({0.5, -1.5, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  auto result = tg::gradcheck([](const auto& in) { return Cube::apply(in[0]); }, {x});
  CHECK_MESSAGE(result.ok, result.report);
}

TEST_CASE("the README's wrong backward fails with the report it shows") {
  tg::Tensor x = tg::tensor({0.5, -1.5, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  auto result = tg::gradcheck([](const auto& in) { return WrongCube::apply(in[0]); }, {x});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  // element [2]: analytical 2·2² = 8, numerical 3·2² = 12
  CHECK(result.report.find(
            "input 0 [3], element [2] -> output [2]: analytical 8, numerical 12, input value 2") !=
        std::string::npos);
}

TEST_CASE("Cube's derivatives") {
  tg::Tensor x = tg::tensor({0.5, -1.5, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  auto cube = [](const auto& in) { return Cube::apply(in[0]); };
  TG_CHECK_GRADIENTS(cube, {x});
  TG_CHECK_GRADIENTS(cube, {x}, {.samples = 10, .seed = 1});  // and 9 random points
  TG_CHECK_GRADGRADIENTS(cube, {x});
  TG_CHECK_GRADIENTS(cube, {x}, {.mode = tg::GradcheckMode::forward});  // jvp
  auto positive = [](const tg::Shape& shape, tg::DType dtype) {
    return tg::rand(shape, {.dtype = dtype}) + 0.1;  // points for x > 0 only
  };
  tg::Tensor y = tg::tensor({0.5, 1.5, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  TG_CHECK_GRADIENTS([](const auto& in) { return tg::log(in[0]); }, {y},
                     {.samples = 10, .sampler = positive});
}

TEST_CASE("the README's one-line check of the wrong backward fails with the message it shows") {
  tg::Tensor x = tg::tensor({0.5, -1.5, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  auto cube = [](const auto& in) { return WrongCube::apply(in[0]); };
  // What TG_CHECK_GRADIENTS(cube, {x}) prints, without failing this test.
  const tg::testing::GradientCheck check =
      tg::testing::check_gradients("cube, {x}", false, cube, {x});
  CHECK_FALSE(check.ok);
  CHECK(check.message ==
        "TG_CHECK_GRADIENTS(cube, {x}) failed\n"
        "gradcheck failed (3 mismatching Jacobian entries):\n"
        "input 0 [3], element [0] -> output [0]: analytical 0.5, numerical 0.75, input value 0.5 "
        "(|difference| 0.25 > atol 1e-05 + rtol 0.001 * |numerical|)\n"
        "input 0 [3], element [1] -> output [1]: analytical 4.5, numerical 6.749999999, input "
        "value -1.5 (|difference| 2.25 > atol 1e-05 + rtol 0.001 * |numerical|)\n"
        "input 0 [3], element [2] -> output [2]: analytical 8, numerical 12, input value 2 "
        "(|difference| 4 > atol 1e-05 + rtol 0.001 * |numerical|)\n"
        "inputs as given:\n"
        "  input 0 [3] f64 = [0.5, -1.5, 2]\n"
        "seed 0, samples 1 (the same options check the same points)\n");
}

TEST_CASE("the README's tape of the logistic-regression example") {
  tg::autograd::TapeInspectionGuard inspect;
  tg::Tensor w = tg::zeros({2}, {.dtype = tg::f64, .requires_grad = true}).set_name("w");
  tg::Tensor b = tg::scalar(0.0, {.dtype = tg::f64, .requires_grad = true}).set_name("b");
  tg::Tensor x = tg::tensor({3.0, 2.0}, {.dtype = tg::f64});
  tg::Tensor loss = -tg::log(tg::sigmoid((w * x).sum() + b));  // y = 1
  loss.backward({.retain_graph = true});
  const std::string tape = tg::autograd::format_tape(loss);
  CAPTURE(tape);
  // σ(0) = 0.5; dloss/dp = −1/p = −2; dσ/dz = 0.25 → dloss/dz = −0.5; dloss/dw = −0.5·x.
  CHECK(tape.find("leaf w  [2] f64  value [0, 0]  grad [-1.5, -1]\n") != std::string::npos);
  CHECK(tape.find("#3  add(#2, leaf b) -> [] f64  value 0  grad -0.5\n") != std::string::npos);
  CHECK(tape.find("#4  sigmoid(#3) -> [] f64  value 0.5  grad -2\n") != std::string::npos);
  CHECK(tape.find("#6  neg(#5) -> [] f64  value 0.693147  grad 1") != std::string::npos);
}

TEST_CASE("the README's iris example: text species load as classes and train") {
  const std::string path = std::string(TG_EXAMPLES_DATA_DIR) + "/iris.csv";
  auto iris = tg::data::read_csv(
      path, {.label_column = "species", .label_classes = {"setosa", "versicolor", "virginica"}});
  REQUIRE(iris.features.shape() == tg::Shape{150, 4});
  REQUIRE(iris.labels.shape() == tg::Shape{150});
  CHECK(iris.labels.dtype() == tg::i64);
  CHECK(iris.label_classes == std::vector<std::string>{"setosa", "versicolor", "virginica"});
  CHECK(iris.feature_names ==
        std::vector<std::string>{"sepal_length", "sepal_width", "petal_length", "petal_width"});
  // Fisher's data: 50 of each species, and the summary statistics the data set's description
  // gives (min, max, mean to two decimals: 4.3 7.9 5.84, 2.0 4.4 3.05, 1.0 6.9 3.76, 0.1 2.5 1.20).
  for (double c : {0.0, 1.0, 2.0}) CHECK((iris.labels == c).sum().item() == 50);
  const std::vector<double> min = iris.features.min(0).to_vector();
  const std::vector<double> max = iris.features.max(0).to_vector();
  const std::vector<double> mean = iris.features.mean(0).to_vector();
  const double expected_min[] = {4.3, 2.0, 1.0, 0.1}, expected_max[] = {7.9, 4.4, 6.9, 2.5},
               expected_mean[] = {5.84, 3.05, 3.76, 1.20};
  for (size_t k = 0; k < 4; ++k) {
    CAPTURE(k);
    CHECK(min[k] == doctest::Approx(expected_min[k]).epsilon(1e-6));
    CHECK(max[k] == doctest::Approx(expected_max[k]).epsilon(1e-6));
    CHECK(std::abs(mean[k] - expected_mean[k]) < 0.01);
  }

  tg::manual_seed(0);
  tg::nn::Linear classifier(4, 3);
  tg::optim::Adam optimizer(classifier.parameters(), {.lr = 0.1});
  for (int step = 0; step < 300; ++step) {
    optimizer.zero_grad();
    tg::F::cross_entropy(classifier(iris.features), iris.labels).backward();
    optimizer.step();
  }
  tg::NoGradGuard no_grad;
  const double accuracy =
      tg::eq(classifier(iris.features).argmax(1), iris.labels).sum().item() / 150.0;
  MESSAGE("iris training accuracy " << accuracy);
  CHECK(accuracy >= 0.95);  // a linear softmax classifier separates iris to about 98%
}
