// Adversarial numerics: NaN/Inf, empty and 0-D tensors through ops, anomaly mode and backward.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tapegrad/autograd.hpp"
#include "tapegrad/nn/clip_grad.hpp"
#include "tapegrad/nn/functional.hpp"

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Outcome { value, error };

// Runs `op`: a tensor or a tg::Error are both defined outcomes; any other exception fails the
// test (a crash fails it anyway). When the op succeeds and its result can be differentiated,
// backward runs too, since that is where shape bookkeeping on empty and 0-D tensors goes wrong.
Outcome defined_outcome(const std::string& what, const std::function<tg::Tensor()>& op) {
  CAPTURE(what);
  try {
    tg::Tensor out = op();
    if (out.defined() && out.requires_grad()) out.sum().backward();
    return Outcome::value;
  } catch (const tg::Error&) {
    return Outcome::error;
  } catch (const std::exception& e) {
    FAIL_CHECK("not a tg::Error: " << e.what());
  }
  return Outcome::error;
}

tg::Tensor leaf(std::vector<double> values, tg::Shape shape) {
  return tg::tensor(std::move(values), std::move(shape), {.dtype = tg::f64, .requires_grad = true});
}

bool all_nan(const tg::Tensor& t) {
  for (double v : t.to_vector())
    if (!std::isnan(v)) return false;
  return true;
}

}  // namespace

TEST_CASE("reductions over empty tensors follow PyTorch") {
  tg::Tensor empty = tg::zeros({0}, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor batch = tg::zeros({0, 3}, {.dtype = tg::f64, .requires_grad = true});

  SUBCASE("sum of nothing is 0, mean of nothing is NaN") {
    CHECK(empty.sum().item() == 0.0);
    CHECK(std::isnan(empty.mean().item()));
    tg::Tensor column_sums = batch.sum(0);
    CHECK(column_sums.shape() == tg::Shape{3});
    CHECK(column_sums.to_vector() == std::vector<double>{0, 0, 0});
    CHECK(all_nan(batch.mean(0)));
    CHECK(batch.mean(1).shape() == tg::Shape{0});
  }
  SUBCASE("max of nothing has no value: tg::Error") {
    CHECK_THROWS_AS(empty.max(), tg::Error);
    CHECK_THROWS_AS(batch.max(0), tg::Error);
    CHECK_THROWS_AS(batch.argmax(0), tg::Error);
    CHECK(batch.max(1).shape() == tg::Shape{0});  // reducing a non-empty dim of an empty batch
  }
  SUBCASE("softmax family over an empty batch keeps its shape") {
    CHECK(tg::softmax(batch, 1).shape() == tg::Shape{0, 3});
    CHECK(tg::log_softmax(batch, 1).shape() == tg::Shape{0, 3});
    CHECK(tg::logsumexp(batch, 1).shape() == tg::Shape{0});
    tg::Tensor over_nothing = tg::logsumexp(batch, 0);  // log(0) = -inf, as in PyTorch
    for (double v : over_nothing.to_vector()) CHECK(v == -kInf);
  }
  SUBCASE("backward through an empty batch gives empty and zero gradients") {
    tg::Tensor w = tg::ones({3, 2}, {.dtype = tg::f64, .requires_grad = true});
    tg::matmul(batch, w).sum().backward();
    CHECK(batch.grad().shape() == tg::Shape{0, 3});
    CHECK(w.grad().to_vector() == std::vector<double>(6, 0.0));
  }
  SUBCASE("an empty inner dimension gives zeros") {
    tg::Tensor product = tg::matmul(tg::ones({2, 0}), tg::ones({0, 3}));
    CHECK(product.to_vector() == std::vector<double>(6, 0.0));
  }
}

TEST_CASE("0-D tensors work wherever an op accepts them") {
  tg::Tensor s = tg::scalar(2.0, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor y = tg::exp(s * s) + tg::tanh(s) - tg::sigmoid(s) / tg::sqrt(s);
  CHECK(y.dim() == 0);
  y.backward();
  CHECK(s.grad().dim() == 0);
  CHECK(std::isfinite(s.grad().item()));
  CHECK((s + tg::ones({3})).shape() == tg::Shape{3});  // broadcasts like any size-1 tensor
  CHECK(s.reshape({}).dim() == 0);
  CHECK(s.reshape({-1}).shape() == tg::Shape{1});
  CHECK(s.unsqueeze(0).shape() == tg::Shape{1});
  CHECK(s.sum().dim() == 0);
  CHECK(s.max().item() == 2.0);
}

TEST_CASE("every op meets empty, 0-D, NaN and Inf inputs with a value or a tg::Error") {
  const std::vector<std::pair<std::string, tg::Tensor>> inputs = {
      {"0-D", leaf({1.5}, {})},
      {"[0]", leaf({}, {0})},
      {"[0, 3]", leaf({}, {0, 3})},
      {"[3, 0]", leaf({}, {3, 0})},
      {"[2, 0, 2]", leaf({}, {2, 0, 2})},
      {"NaN/Inf [2, 3]", leaf({kNaN, kInf, -kInf, 0.0, -0.0, 1e308}, {2, 3})},
      {"Inf 0-D", leaf({kInf}, {})},
  };
  using Unary = std::function<tg::Tensor(const tg::Tensor&)>;
  const std::vector<std::pair<std::string, Unary>> unary = {
      {"neg", [](auto& t) { return -t; }},
      {"exp", [](auto& t) { return tg::exp(t); }},
      {"log", [](auto& t) { return tg::log(t); }},
      {"sqrt", [](auto& t) { return tg::sqrt(t); }},
      {"abs", [](auto& t) { return tg::abs(t); }},
      {"tanh", [](auto& t) { return tg::tanh(t); }},
      {"sigmoid", [](auto& t) { return tg::sigmoid(t); }},
      {"relu", [](auto& t) { return tg::relu(t); }},
      {"leaky_relu", [](auto& t) { return tg::leaky_relu(t, 0.1); }},
      {"clamp", [](auto& t) { return tg::clamp(t, -1, 1); }},
      {"pow -1", [](auto& t) { return tg::pow(t, -1.0); }},
      {"pow 0.5", [](auto& t) { return tg::pow(t, 0.5); }},
      {"div by self", [](auto& t) { return t / t; }},
      {"maximum", [](auto& t) { return tg::maximum(t, t * 2.0); }},
      {"minimum", [](auto& t) { return tg::minimum(t, t * 2.0); }},
      {"eq", [](auto& t) { return tg::eq(t, t); }},
      {"sum", [](auto& t) { return t.sum(); }},
      {"mean", [](auto& t) { return t.mean(); }},
      {"max", [](auto& t) { return t.max(); }},
      {"sum(0)", [](auto& t) { return t.sum(0); }},
      {"sum(-1, keepdim)", [](auto& t) { return t.sum(-1, true); }},
      {"mean(0)", [](auto& t) { return t.mean(0); }},
      {"mean(-1)", [](auto& t) { return t.mean(-1); }},
      {"max(0)", [](auto& t) { return t.max(0); }},
      {"max(-1)", [](auto& t) { return t.max(-1); }},
      {"argmax(0)", [](auto& t) { return t.argmax(0); }},
      {"argmax(-1)", [](auto& t) { return t.argmax(-1); }},
      {"softmax(0)", [](auto& t) { return tg::softmax(t, 0); }},
      {"softmax(-1)", [](auto& t) { return tg::softmax(t, -1); }},
      {"log_softmax(-1)", [](auto& t) { return tg::log_softmax(t, -1); }},
      {"logsumexp(0)", [](auto& t) { return tg::logsumexp(t, 0); }},
      {"logsumexp(-1)", [](auto& t) { return tg::logsumexp(t, -1); }},
      {"reshape(-1)", [](auto& t) { return t.reshape({-1}); }},
      {"reshape(-1, 0)",
       [](auto& t) {
         return t.reshape({-1, 0});
       }},
      {"transpose(0, -1)", [](auto& t) { return t.transpose(0, -1); }},
      {"t", [](auto& t) { return t.t(); }},
      {"unsqueeze(0)", [](auto& t) { return t.unsqueeze(0); }},
      {"unsqueeze(-1)", [](auto& t) { return t.unsqueeze(-1); }},
      {"squeeze(0)", [](auto& t) { return t.squeeze(0); }},
      {"cat self (0)",
       [](auto& t) {
         return tg::cat({t, t}, 0);
       }},
      {"cat self (-1)",
       [](auto& t) {
         return tg::cat({t, t}, -1);
       }},
      {"narrow(0, 0, 0)", [](auto& t) { return tg::narrow(t, 0, 0, 0); }},
      {"index_select(0, [])",
       [](auto& t) { return t.index_select(0, tg::zeros({0}, {.dtype = tg::i64})); }},
      {"index_select(0, [0])",
       [](auto& t) { return t.index_select(0, tg::zeros({1}, {.dtype = tg::i64})); }},
      {"gather(0, zeros)",
       [](auto& t) { return t.gather(0, tg::zeros(t.shape(), {.dtype = tg::i64})); }},
      {"matmul self", [](auto& t) { return tg::matmul(t, t); }},
      {"matmul t", [](auto& t) { return t.dim() == 2 ? tg::matmul(t, t.t()) : tg::matmul(t, t); }},
      {"linear", [](auto& t) { return tg::linear(t, t); }},
      {"to f32", [](auto& t) { return t.to(tg::f32); }},
      {"item", [](auto& t) { return tg::scalar(t.item()); }},
      {"broadcast_to [2, *]",
       [](auto& t) {
         tg::Shape shape = t.shape();
         shape.insert(shape.begin(), 2);
         return tg::broadcast_to(t, shape);
       }},
  };
  int values = 0, errors = 0;
  for (const auto& [input_name, input] : inputs)
    for (const auto& [op_name, op] : unary) {
      tg::Tensor x = input;
      x.zero_grad();
      if (defined_outcome(op_name + " of " + input_name, [&] { return op(x); }) == Outcome::value)
        ++values;
      else
        ++errors;
    }
  MESSAGE(values << " values, " << errors << " tg::Errors");
}

TEST_CASE("anomaly mode names the op that first makes NaN or Inf, forward or backward") {
  tg::autograd::DetectAnomalyGuard anomaly;
  SUBCASE("log of 0 in forward") {
    tg::Tensor w = tg::zeros({2}, {.dtype = tg::f64, .requires_grad = true});
    CHECK_THROWS_WITH_AS(tg::log(w), doctest::Contains("log"), tg::Error);
  }
  SUBCASE("NaN arriving in an input is reported by the first op that records it") {
    tg::Tensor w = leaf({kNaN, 1.0}, {2});
    CHECK_THROWS_WITH_AS(w * 2.0, doctest::Contains("mul"), tg::Error);
  }
  SUBCASE("sqrt at 0: finite forward, infinite backward") {
    tg::Tensor w = tg::zeros({2}, {.dtype = tg::f64, .requires_grad = true});
    tg::Tensor loss = tg::sqrt(w).sum();
    CHECK_THROWS_WITH_AS(loss.backward(), doctest::Contains("sqrt"), tg::Error);
  }
  SUBCASE("the mean of an empty batch is NaN, and anomaly mode says so") {
    tg::Tensor w = tg::zeros({0}, {.dtype = tg::f64, .requires_grad = true});
    CHECK_THROWS_WITH_AS(w.mean(), doctest::Contains("mean"), tg::Error);
  }
  SUBCASE("without anomaly mode the same graph runs and the NaN is visible in the gradient") {
    tg::autograd::set_detect_anomaly(false);
    tg::Tensor w = tg::zeros({2}, {.dtype = tg::f64, .requires_grad = true});
    tg::sqrt(w).sum().backward();
    CHECK(std::isinf(w.grad().to_vector()[0]));
    tg::autograd::set_detect_anomaly(true);
  }
}

TEST_CASE("losses over an empty batch: mean is NaN, sum is 0, none is empty (PyTorch)") {
  namespace F = tg::nn::functional;
  tg::Tensor logits = tg::zeros({0, 4}, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor labels = tg::zeros({0}, {.dtype = tg::i64});
  tg::Tensor predictions = tg::zeros({0}, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor targets = tg::zeros({0}, {.dtype = tg::f64});

  CHECK(std::isnan(F::cross_entropy(logits, labels).item()));
  CHECK(F::cross_entropy(logits, labels, F::Reduction::sum).item() == 0.0);
  CHECK(F::cross_entropy(logits, labels, F::Reduction::none).shape() == tg::Shape{0});
  CHECK(std::isnan(F::nll_loss(tg::log_softmax(logits, 1), labels).item()));
  CHECK(std::isnan(F::mse_loss(predictions, targets).item()));
  CHECK(F::mse_loss(predictions, targets, F::Reduction::sum).item() == 0.0);
  CHECK(std::isnan(F::l1_loss(predictions, targets).item()));
  CHECK(std::isnan(F::huber_loss(predictions, targets).item()));
  CHECK(std::isnan(F::binary_cross_entropy_with_logits(predictions, targets).item()));
  SUBCASE("and backward through the summed loss leaves empty gradients") {
    F::cross_entropy(logits, labels, F::Reduction::sum).backward();
    CHECK(logits.grad().shape() == tg::Shape{0, 4});
  }
}

TEST_CASE("losses meet 0-D, NaN, Inf and out-of-range inputs with a value or a tg::Error") {
  namespace F = tg::nn::functional;
  const auto x = [](std::vector<double> v, tg::Shape s) {
    return leaf(std::move(v), std::move(s));
  };
  const auto target = [](std::vector<double> v, tg::Shape s) {
    return tg::tensor(std::move(v), std::move(s), {.dtype = tg::f64});
  };
  const auto labels = [](std::vector<double> v) {
    const auto n = static_cast<int64_t>(v.size());
    return tg::tensor(std::move(v), {n}, {.dtype = tg::i64});
  };
  SUBCASE("0-D prediction and target give a 0-D loss") {
    CHECK(F::mse_loss(x({2.0}, {}), target({1.0}, {})).dim() == 0);
    CHECK(F::l1_loss(x({2.0}, {}), target({1.0}, {})).item() == 1.0);
    CHECK(F::binary_cross_entropy_with_logits(x({0.0}, {}), target({1.0}, {})).dim() == 0);
  }
  SUBCASE("extreme but finite inputs stay finite") {
    CHECK(std::isfinite(F::cross_entropy(x({1000, -1000, 0}, {1, 3}), labels({1})).item()));
    CHECK(std::isfinite(
        F::binary_cross_entropy_with_logits(x({1000, -1000}, {2}), target({0, 1}, {2})).item()));
    // PyTorch clamps log(p) at -100, so probabilities of exactly 0 and 1 give a finite loss.
    tg::Tensor probs = x({0.0, 1.0}, {2});
    tg::Tensor bce = F::binary_cross_entropy(probs, target({1, 0}, {2}));
    CHECK(std::isfinite(bce.item()));
    bce.backward();
    for (double g : probs.grad().to_vector()) CHECK(std::isfinite(g));
    CHECK(std::isfinite(F::kl_div(x({-1, -2}, {2}), target({0, 1}, {2})).item()));  // 0 log 0 = 0
  }
  SUBCASE("NaN in a prediction or a target comes out as NaN, not as a wrong number") {
    CHECK(std::isnan(F::mse_loss(x({kNaN, 1}, {2}), target({0, 0}, {2})).item()));
    CHECK(std::isnan(F::mse_loss(x({0, 1}, {2}), target({kNaN, 0}, {2})).item()));
    CHECK(std::isnan(F::cross_entropy(x({kNaN, 0, 0}, {1, 3}), labels({0})).item()));
    CHECK(std::isnan(F::l1_loss(x({0, 1}, {2}), target({kNaN, 0}, {2})).item()));
    CHECK(std::isinf(F::mse_loss(x({kInf, 1}, {2}), target({0, 0}, {2})).item()));
  }
  SUBCASE("labels that name no class are a tg::Error") {
    CHECK_THROWS_AS(F::cross_entropy(x({0, 0, 0}, {1, 3}), labels({3})), tg::Error);
    CHECK_THROWS_AS(F::cross_entropy(x({0, 0, 0}, {1, 3}), labels({-1})), tg::Error);
    CHECK_THROWS_AS(F::nll_loss(x({0, 0, 0}, {1, 3}), labels({7})), tg::Error);
    CHECK_THROWS_AS(F::cross_entropy(x({0, 0, 0}, {1, 3}), labels({0, 1})), tg::Error);
    CHECK_THROWS_AS(F::cross_entropy(x({0, 0, 0}, {1, 3}), target({0}, {1})), tg::Error);
    CHECK_THROWS_AS(F::mse_loss(x({0, 0, 0}, {3}), target({0, 0}, {2})), tg::Error);
  }
  SUBCASE("anything else: a value or a tg::Error, never another exception or a crash") {
    const std::vector<tg::Tensor> predictions = {x({1.5}, {}), x({}, {0}), x({}, {0, 3}),
                                                 x({kNaN, kInf, -kInf}, {3}),
                                                 x({kNaN, kInf, -kInf, 0, 1, -1}, {2, 3})};
    for (tg::Tensor p : predictions)
      for (const tg::Tensor& t : predictions) {
        p.zero_grad();
        defined_outcome("mse", [&] { return F::mse_loss(p, t.detach()); });
        defined_outcome("l1", [&] { return F::l1_loss(p, t.detach()); });
        defined_outcome("huber", [&] { return F::huber_loss(p, t.detach(), 0.5); });
        defined_outcome("bce", [&] { return F::binary_cross_entropy(tg::sigmoid(p), t.detach()); });
        defined_outcome("bce logits",
                        [&] { return F::binary_cross_entropy_with_logits(p, t.detach()); });
        defined_outcome("kl_div", [&] { return F::kl_div(p, t.detach()); });
        defined_outcome("cross_entropy", [&] {
          return F::cross_entropy(p,
                                  tg::zeros({p.dim() > 0 ? p.shape()[0] : 1}, {.dtype = tg::i64}));
        });
      }
  }
}

TEST_CASE("clip_grad_norm_ with non-finite gradients") {
  SUBCASE("no gradients at all: norm 0, nothing to do") {
    tg::Tensor w = tg::ones({3}, {.requires_grad = true});
    CHECK(tg::nn::clip_grad_norm_({w}, 1.0) == 0.0);
    CHECK(tg::nn::clip_grad_norm_({}, 1.0) == 0.0);
    CHECK_FALSE(w.grad().defined());
  }
  SUBCASE("a NaN gradient makes the total norm NaN") {
    tg::Tensor w = leaf({1, 2}, {2});
    tg::Tensor v = leaf({3}, {1});
    (w * tg::tensor({kNaN, 1.0}, {2}, {.dtype = tg::f64})).sum().backward();
    (v * 2.0).sum().backward();
    const double norm = tg::nn::clip_grad_norm_({w, v}, 1.0);
    CHECK(std::isnan(norm));
    // Unlike PyTorch (which scales by max_norm / (NaN + eps) and so turns every gradient into
    // NaN), tapegrad leaves the gradients as they were and returns the NaN for the caller to
    // skip the step; the NaN is still there for a check before optimizer.step().
    CHECK(std::isnan(w.grad().to_vector()[0]));
    CHECK(w.grad().to_vector()[1] == 1.0);
    CHECK(v.grad().to_vector()[0] == 2.0);
  }
  SUBCASE("an infinite gradient makes the total norm Inf") {
    tg::Tensor w = leaf({1, 2}, {2});
    (w * tg::tensor({kInf, 1.0}, {2}, {.dtype = tg::f64})).sum().backward();
    CHECK(std::isinf(tg::nn::clip_grad_norm_({w}, 1.0)));
    CHECK(w.grad().to_vector()[1] == 1.0);  // untouched, as for NaN
  }
  SUBCASE("zero-size parameters are fine") {
    tg::Tensor empty = tg::zeros({0, 3}, {.dtype = tg::f64, .requires_grad = true});
    tg::Tensor w = leaf({3, 4}, {2});
    (tg::matmul(empty, tg::ones({3, 1}, {.dtype = tg::f64})).sum() + (w * w).sum()).backward();
    CHECK(tg::nn::clip_grad_norm_({empty, w}, 1.0) == doctest::Approx(10.0));
    CHECK(tg::nn::clip_grad_norm_({empty, w}, 1.0) == doctest::Approx(1.0));
  }
}
TEST_CASE("impossible shapes and unrepresentable values are rejected, not undefined behaviour") {
  SUBCASE("element counts that overflow int64") {
    constexpr int64_t kHuge = std::numeric_limits<int64_t>::max() / 2;
    CHECK(defined_outcome("zeros [huge, 4]", [] {
            return tg::zeros({kHuge, 4});
          }) == Outcome::error);
    CHECK(defined_outcome("zeros [huge, huge]", [] {
            return tg::zeros({kHuge, kHuge});
          }) == Outcome::error);
    // 0 elements in all, but a left-to-right product of the sizes overflows on the way.
    defined_outcome("reshape to [huge, huge, 0]", [] {
      return tg::zeros({0}).reshape({kHuge, kHuge, 0});
    });
    defined_outcome("zeros [huge, huge, 0]", [] { return tg::zeros({kHuge, kHuge, 0}); });
  }
  SUBCASE("an i64 tensor cannot hold NaN, Inf or 1e300 (PyTorch refuses them too)") {
    for (double v : {kNaN, kInf, -kInf, 1e300}) {
      CAPTURE(v);
      CHECK_THROWS_AS(tg::tensor({v}, {.dtype = tg::i64}), tg::Error);
      CHECK_THROWS_AS(tg::scalar(v, {.dtype = tg::i64}), tg::Error);
      CHECK_THROWS_AS(tg::full({2}, v, {.dtype = tg::i64}), tg::Error);
    }
  }
  SUBCASE("converting NaN, Inf or out-of-range values to i64 is defined: INT64_MIN") {
    // What x86 and so PyTorch give there; a plain cast would be undefined behaviour.
    const tg::Tensor converted = tg::tensor({kNaN, kInf, -kInf, 1e300, -3.7}).to(tg::i64);
    const double int64_min = static_cast<double>(std::numeric_limits<int64_t>::min());
    CHECK(converted.to_vector() ==
          std::vector<double>{int64_min, int64_min, int64_min, int64_min, -3.0});
  }
}
