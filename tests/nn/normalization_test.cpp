// LayerNorm and BatchNorm1d modules: parameters and buffers, training and evaluation against
// written-out f64 loops, running estimates over several steps, every option, to(f64), errors.
#include <cmath>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::constant;
using tg::testing::leaf;
using tg::testing::set_values;

namespace {

std::vector<std::string> names(const tg::nn::Module::NamedTensors& named) {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : named) out.push_back(name);
  return out;
}

// Per channel of x [n, c] (plain loops): the mean and the biased and unbiased variances.
struct ChannelStats {
  std::vector<double> mean, biased, unbiased;
};
ChannelStats channel_stats(const std::vector<double>& x, int64_t n, int64_t c) {
  ChannelStats s{std::vector<double>(static_cast<size_t>(c), 0.0),
                 std::vector<double>(static_cast<size_t>(c), 0.0),
                 std::vector<double>(static_cast<size_t>(c), 0.0)};
  for (int64_t ch = 0; ch < c; ++ch) {
    const auto uc = static_cast<size_t>(ch);
    for (int64_t i = 0; i < n; ++i) s.mean[uc] += x[static_cast<size_t>(i * c + ch)];
    s.mean[uc] /= static_cast<double>(n);
    double squares = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = x[static_cast<size_t>(i * c + ch)] - s.mean[uc];
      squares += d * d;
    }
    s.biased[uc] = squares / static_cast<double>(n);
    s.unbiased[uc] = squares / static_cast<double>(n - 1);
  }
  return s;
}

// (x − mean)/√(var + eps)·w + b per channel of x [n, c].
std::vector<double> normalized(const std::vector<double>& x, int64_t n, int64_t c,
                               const std::vector<double>& mean, const std::vector<double>& var,
                               const std::vector<double>& w, const std::vector<double>& b,
                               double eps) {
  std::vector<double> y(x.size());
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      const auto k = static_cast<size_t>(i * c + ch), uc = static_cast<size_t>(ch);
      y[k] = (x[k] - mean[uc]) / std::sqrt(var[uc] + eps) * w[uc] + b[uc];
    }
  return y;
}

}  // namespace

TEST_CASE("LayerNorm holds weight (ones) and bias (zeros) of normalized_shape and no buffers") {
  tg::nn::LayerNorm norm({2, 3});
  CHECK(names(norm.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(norm.weight.shape() == tg::Shape{2, 3});
  TG_CHECK_VALUES(norm.weight, {1, 1, 1, 1, 1, 1});
  TG_CHECK_VALUES(norm.bias, {0, 0, 0, 0, 0, 0});
  CHECK(norm.buffers().empty());
  CHECK(tg::nn::LayerNorm({4}, {.elementwise_affine = false}).parameters().empty());
}

TEST_CASE("LayerNorm normalises each sample over the trailing dims, the same in train and eval") {
  tg::nn::LayerNorm norm({3}, {.eps = 0.0});
  norm.to(tg::f64);
  set_values(norm.weight, {1, 2, 3});
  set_values(norm.bias, {0.5, 0, -0.5});
  const tg::Tensor x = constant({1, 2, 3, 2, 2, 5}, {2, 3});
  // row 0: mean 2, var 2/3 → x̂ = [−√1.5, 0, √1.5];  row 1: mean 3, var 2 → x̂ = [−1/√2, −1/√2, √2]
  const double r = std::sqrt(1.5);
  const std::vector<double> expected = {-r + 0.5,
                                        0,
                                        3 * r - 0.5,
                                        -1 / std::sqrt(2.0) + 0.5,
                                        -2 / std::sqrt(2.0),
                                        3 * std::sqrt(2.0) - 0.5};
  TG_CHECK_VALUES(norm(x), expected);
  norm.eval();
  TG_CHECK_VALUES(norm(x), expected);
  SUBCASE("gradcheck and gradgradcheck through the module") {
    auto f = [&](const std::vector<tg::Tensor>& in) { return norm(in[0]); };
    const tg::Tensor input = tg::testing::uniform({2, 3}, -1, 2);
    TG_CHECK_GRADCHECK(f, {input});
    const auto second = tg::gradgradcheck(f, {input});
    CHECK_MESSAGE(second.ok, second.report);
  }
}

TEST_CASE("BatchNorm1d registers weight and bias as parameters and its statistics as buffers") {
  tg::nn::BatchNorm1d norm(3);
  CHECK(names(norm.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(names(norm.named_buffers()) ==
        std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  TG_CHECK_VALUES(norm.running_mean, {0, 0, 0});
  TG_CHECK_VALUES(norm.running_var, {1, 1, 1});
  CHECK(norm.num_batches_tracked.dtype() == tg::i64);
  CHECK(norm.num_batches_tracked.item() == 0);
  CHECK(!norm.running_mean.requires_grad());
  CHECK(norm.state_dict().size() == 5);
  SUBCASE("affine = false: no parameters") {
    tg::nn::BatchNorm1d bare(3, {.affine = false});
    CHECK(bare.parameters().empty());
    CHECK(bare.buffers().size() == 3);
  }
  SUBCASE("track_running_stats = false: no buffers") {
    CHECK(tg::nn::BatchNorm1d(3, {.track_running_stats = false}).buffers().empty());
  }
}

TEST_CASE("BatchNorm1d in training normalises by the batch and tracks running estimates") {
  tg::nn::BatchNorm1d norm(2);
  norm.to(tg::f64);
  set_values(norm.weight, {2, 0.5});
  set_values(norm.bias, {1, -1});
  const std::vector<std::vector<double>> batches = {
      {1, 2, 3, 6, 5, 1}, {0, 0, 4, 2, -1, 7, 3, 3}, {10, -2, 12, 0}};
  std::vector<double> expected_mean = {0, 0}, expected_var = {1, 1};
  for (size_t step = 0; step < batches.size(); ++step) {
    CAPTURE(step);
    const auto n = static_cast<int64_t>(batches[step].size() / 2);
    const ChannelStats s = channel_stats(batches[step], n, 2);
    tg::Tensor x = leaf(batches[step], {n, 2});
    const tg::Tensor y = norm(x);
    TG_CHECK_VALUES(y, normalized(batches[step], n, 2, s.mean, s.biased, {2, 0.5}, {1, -1}, 1e-5));
    for (size_t c = 0; c < 2; ++c) {
      expected_mean[c] = 0.9 * expected_mean[c] + 0.1 * s.mean[c];
      expected_var[c] = 0.9 * expected_var[c] + 0.1 * s.unbiased[c];
    }
    TG_CHECK_VALUES(norm.running_mean, expected_mean);
    TG_CHECK_VALUES(norm.running_var, expected_var);
    CHECK(norm.num_batches_tracked.item() == static_cast<double>(step + 1));
  }
  SUBCASE("evaluation uses the running estimates and leaves them alone") {
    norm.eval();
    const std::vector<double> x = {1, 2, 3, 4};
    TG_CHECK_VALUES(norm(constant(x, {2, 2})),
                    normalized(x, 2, 2, expected_mean, expected_var, {2, 0.5}, {1, -1}, 1e-5));
    TG_CHECK_VALUES(norm.running_mean, expected_mean);
    CHECK(norm.num_batches_tracked.item() == 3);
    // one sample is fine in evaluation
    CHECK(norm(constant({1, 2}, {1, 2})).shape() == tg::Shape{1, 2});
  }
  SUBCASE("gradients in training and evaluation pass gradcheck and gradgradcheck") {
    for (bool training : {true, false}) {
      CAPTURE(training);
      norm.train(training);
      auto f = [&](const std::vector<tg::Tensor>& in) { return norm(in[0]); };
      const tg::Tensor input = tg::testing::uniform({4, 2}, -1, 2);
      TG_CHECK_GRADCHECK(f, {input});
      const auto second = tg::gradgradcheck(f, {input});
      CHECK_MESSAGE(second.ok, second.report);
    }
  }
}

TEST_CASE("BatchNorm1d without momentum keeps the cumulative average of the batch statistics") {
  tg::nn::BatchNorm1d norm(1, {.momentum = std::nullopt});
  norm.to(tg::f64);
  // batch means 2, 5, −1 and unbiased variances 2, 8, 0.5
  norm(constant({1, 3}, {2, 1}));
  norm(constant({3, 7}, {2, 1}));
  norm(constant({-1.5, -0.5}, {2, 1}));
  TG_CHECK_VALUES(norm.running_mean, {(2.0 + 5 - 1) / 3});
  TG_CHECK_VALUES(norm.running_var, {(2.0 + 8 + 0.5) / 3});
  CHECK(norm.num_batches_tracked.item() == 3);
}

TEST_CASE("BatchNorm1d on [N, C, L] takes statistics over N and L") {
  tg::nn::BatchNorm1d norm(2, {.momentum = 0.5, .affine = false});
  norm.to(tg::f64);
  // channel 0: {0, 2, 4, 6} mean 3, biased 5, unbiased 20/3; channel 1: {1, 1, 3, 3} mean 2,
  // biased 1, unbiased 4/3
  const tg::Tensor y = norm(constant({0, 2, 1, 1, 4, 6, 3, 3}, {2, 2, 2}));
  const double s0 = std::sqrt(5 + 1e-5), s1 = std::sqrt(1 + 1e-5);
  TG_CHECK_VALUES(y, {-3 / s0, -1 / s0, -1 / s1, -1 / s1, 1 / s0, 3 / s0, 1 / s1, 1 / s1});
  TG_CHECK_VALUES(norm.running_mean, {1.5, 1});
  TG_CHECK_VALUES(norm.running_var, {0.5 + 10.0 / 3, 0.5 + 2.0 / 3});
}

TEST_CASE("BatchNorm1d with track_running_stats = false uses the batch in training and eval") {
  tg::nn::BatchNorm1d norm(1, {.eps = 0.0, .track_running_stats = false});
  norm.to(tg::f64);
  const tg::Tensor x = constant({1, 3, 5}, {3, 1});  // mean 3, biased variance 8/3
  const double s = std::sqrt(8.0 / 3);
  TG_CHECK_VALUES(norm(x), {-2 / s, 0, 2 / s});
  norm.eval();
  TG_CHECK_VALUES(norm(x), {-2 / s, 0, 2 / s});
}

TEST_CASE("BatchNorm1d's buffers survive to(f64) and keep their values; the counter stays i64") {
  tg::nn::BatchNorm1d norm(2);
  norm(tg::tensor({1, 2, 3, 5}, {2, 2}));
  const std::vector<double> mean = norm.running_mean.to_vector();
  const std::vector<double> var = norm.running_var.to_vector();
  tg::Tensor handle = norm.running_mean;
  norm.to(tg::f64);
  CHECK(norm.running_mean.dtype() == tg::f64);
  CHECK(handle.dtype() == tg::f64);  // the handle follows, as for parameters
  CHECK(norm.running_var.dtype() == tg::f64);
  CHECK(norm.num_batches_tracked.dtype() == tg::i64);
  CHECK(norm.num_batches_tracked.item() == 1);
  TG_CHECK_VALUES(norm.running_mean, mean);
  TG_CHECK_VALUES(norm.running_var, var);
  CHECK(norm(constant({1, 2, 3, 4}, {2, 2})).dtype() == tg::f64);
  CHECK(norm.num_batches_tracked.item() == 2);
}

TEST_CASE("LayerNorm and BatchNorm1d reject bad options and inputs, naming the layer") {
  TG_CHECK_ERROR(tg::nn::LayerNorm(tg::Shape{}), "LayerNorm", "normalized_shape");
  TG_CHECK_ERROR(tg::nn::LayerNorm({3, 0}), "LayerNorm", "[3, 0]");
  TG_CHECK_ERROR(tg::nn::LayerNorm({3}, {.eps = -1}), "LayerNorm", "eps");
  TG_CHECK_ERROR(tg::nn::BatchNorm1d(0), "BatchNorm1d", "num_features", "0");
  TG_CHECK_ERROR(tg::nn::BatchNorm1d(2, {.momentum = 2.0}), "BatchNorm1d", "momentum", "2");
  tg::nn::LayerNorm layer({3});
  TG_CHECK_ERROR(layer(tg::zeros({2, 4})), "LayerNorm([3])", "[2, 4]");
  TG_CHECK_ERROR(layer(tg::zeros({2, 3}, {.dtype = tg::f64})), "LayerNorm([3])", "f64", "f32");
  tg::nn::BatchNorm1d batch(3);
  TG_CHECK_ERROR(batch(tg::zeros({2, 4})), "BatchNorm1d(3)", "[N, 3]", "[2, 4]");
  TG_CHECK_ERROR(batch(tg::zeros({2})), "BatchNorm1d(3)", "[2]");
  TG_CHECK_ERROR(batch(tg::zeros({1, 3})), "BatchNorm1d(3)", "more than 1 value", "[1, 3]");
  CHECK(batch.num_batches_tracked.item() == 0);  // the failed call counted nothing
  TG_CHECK_ERROR(batch(tg::zeros({2, 3}, {.dtype = tg::f64})), "BatchNorm1d(3)", "f64", "f32");
}
