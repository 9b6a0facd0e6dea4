// cross_entropy, nll_loss, binary_cross_entropy (on probabilities and logits) and kl_div:
// values, gradients, every reduction, extreme inputs, gradcheck and errors.
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/testing.hpp"

using tg::testing::all_finite;
using tg::testing::constant;
using tg::testing::labels;
using tg::testing::leaf;
using Reduction = tg::F::Reduction;

namespace {
constexpr Reduction kReductions[] = {Reduction::mean, Reduction::sum, Reduction::none};

// [N, C] one-hot rows of `y`, f64.
tg::Tensor one_hot(const std::vector<int64_t>& y, int64_t classes) {
  std::vector<double> values(y.size() * static_cast<size_t>(classes), 0.0);
  for (size_t i = 0; i < y.size(); ++i)
    values[i * static_cast<size_t>(classes) + static_cast<size_t>(y[i])] = 1;
  return constant(values, {static_cast<int64_t>(y.size()), classes});
}
}  // namespace

TEST_CASE("cross_entropy is logsumexp of each row minus the logit of its class") {
  tg::Tensor z = leaf({1, 2, 3, 1, 1, 1}, {2, 3});
  const tg::Tensor y = labels({2, 0}, {2});
  const double norm = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const double loss0 = std::log(norm) - 3;  // row 0: log(e + e² + e³) − 3
  const double loss1 = std::log(3.0);       // row 1: (1 + log 3) − 1
  const std::vector<double> p0 = {std::exp(1.0) / norm, std::exp(2.0) / norm, std::exp(3.0) / norm};
  SUBCASE("mean") {
    const tg::Tensor loss = tg::F::cross_entropy(z, y);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {(loss0 + loss1) / 2});
    loss.backward();
    // (softmax − onehot) / N
    TG_CHECK_VALUES(z.grad(),
                    {p0[0] / 2, p0[1] / 2, (p0[2] - 1) / 2, (1.0 / 3 - 1) / 2, 1.0 / 6, 1.0 / 6});
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::cross_entropy(z, y, Reduction::sum);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {loss0 + loss1});
    loss.backward();
    TG_CHECK_VALUES(z.grad(), {p0[0], p0[1], p0[2] - 1, 1.0 / 3 - 1, 1.0 / 3, 1.0 / 3});
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::cross_entropy(z, y, Reduction::none);
    CHECK(loss.shape() == tg::Shape{2});
    TG_CHECK_VALUES(loss, {loss0, loss1});
    // weights 2 and −1 on the two samples scale their rows of softmax − onehot
    loss.backward(constant({2, -1}, {2}));
    TG_CHECK_VALUES(z.grad(),
                    {2 * p0[0], 2 * p0[1], 2 * (p0[2] - 1), -(1.0 / 3 - 1), -1.0 / 3, -1.0 / 3});
  }
}

TEST_CASE("the softmax cross-entropy gradient is (softmax − onehot)/N, or unscaled for sum") {
  tg::manual_seed(3);
  const std::vector<int64_t> classes = {4, 0, 2, 2, 1};
  const tg::Tensor y = labels({4, 0, 2, 2, 1}, {5});
  for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
    CAPTURE(static_cast<int>(reduction));
    tg::Tensor z = (tg::randn({5, 5}, {.dtype = tg::f64}) * 3.0).detach().set_requires_grad();
    tg::F::cross_entropy(z, y, reduction).backward();
    tg::Tensor expected = tg::softmax(z.detach(), 1) - one_hot(classes, 5);
    if (reduction == Reduction::mean) expected = expected / 5.0;
    TG_CHECK_VALUES_TOL(z.grad(), 1e-12, expected.to_vector());
  }
}

TEST_CASE("cross_entropy equals nll_loss of log_softmax") {
  tg::manual_seed(5);
  const tg::Tensor z = tg::randn({4, 6}, {.dtype = tg::f64});
  const tg::Tensor y = labels({5, 0, 3, 3}, {4});
  for (Reduction reduction : kReductions) {
    CAPTURE(static_cast<int>(reduction));
    TG_CHECK_VALUES_TOL(tg::F::cross_entropy(z, y, reduction), 1e-12,
                        tg::F::nll_loss(tg::log_softmax(z, 1), y, reduction).to_vector());
  }
}

TEST_CASE("cross_entropy stays finite for logits of ±1000") {
  tg::Tensor z = leaf({1000, -1000, 0, -1000, 1000, 1000, 1000, -1000, -1000}, {3, 3});
  const tg::Tensor y = labels({0, 1, 1}, {3});
  const tg::Tensor loss = tg::F::cross_entropy(z, y, Reduction::none);
  // row 0: logsumexp = 1000, minus 1000 → 0;  row 1: 1000 + log 2 − 1000 = log 2;
  // row 2: 1000 − (−1000) = 2000
  TG_CHECK_VALUES_TOL(loss, 1e-9, {0, std::log(2.0), 2000});
  loss.sum().backward();
  // softmax rows [1, 0, 0], [0, ½, ½], [1, 0, 0] minus the one-hots
  TG_CHECK_VALUES_TOL(z.grad(), 1e-12, {0, 0, 0, 0, -0.5, 0.5, 1, -1, 0});
  CHECK(all_finite(z.grad()));
}

TEST_CASE("cross_entropy and nll_loss take one sample as [C] logits with a 0-D target") {
  tg::Tensor z = leaf({1, 2, 3}, {3});
  const tg::Tensor y = labels({1}, {});
  const double norm = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (Reduction reduction : kReductions) {
    CAPTURE(static_cast<int>(reduction));
    const tg::Tensor loss = tg::F::cross_entropy(z, y, reduction);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {std::log(norm) - 2});
    const tg::Tensor nll = tg::F::nll_loss(z, y, reduction);
    CHECK(nll.dim() == 0);
    TG_CHECK_VALUES(nll, {-2.0});
  }
  tg::F::cross_entropy(z, y).backward();
  TG_CHECK_VALUES(z.grad(), {std::exp(1.0) / norm, std::exp(2.0) / norm - 1, std::exp(3.0) / norm});
}

TEST_CASE("nll_loss picks −log_probs[i, target[i]] and its mean divides by N") {
  tg::Tensor lp = leaf({-1, -2, -3, -0.5, -1.5, -2.5}, {2, 3});
  const tg::Tensor y = labels({1, 2}, {2});
  SUBCASE("mean") {
    const tg::Tensor loss = tg::F::nll_loss(lp, y);
    TG_CHECK_VALUES(loss, {2.25});  // (2 + 2.5) / 2
    loss.backward();
    TG_CHECK_VALUES(lp.grad(), {0, -0.5, 0, 0, 0, -0.5});  // −onehot / 2
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::nll_loss(lp, y, Reduction::sum);
    TG_CHECK_VALUES(loss, {4.5});
    loss.backward();
    TG_CHECK_VALUES(lp.grad(), {0, -1, 0, 0, 0, -1});
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::nll_loss(lp, y, Reduction::none);
    CHECK(loss.shape() == tg::Shape{2});
    TG_CHECK_VALUES(loss, {2, 2.5});
  }
}

TEST_CASE("cross_entropy and nll_loss pass gradcheck and gradgradcheck in f64") {
  tg::manual_seed(7);
  const tg::Tensor y = labels({2, 0, 3}, {3});
  for (Reduction reduction : kReductions) {
    CAPTURE(static_cast<int>(reduction));
    auto ce = [&](const std::vector<tg::Tensor>& in) {
      return tg::F::cross_entropy(in[0], y, reduction);
    };
    auto nll = [&](const std::vector<tg::Tensor>& in) {
      return tg::F::nll_loss(in[0], y, reduction);
    };
    const tg::Tensor z = tg::randn({3, 4}, {.dtype = tg::f64, .requires_grad = true});
    TG_CHECK_GRADCHECK(ce, {z});
    TG_CHECK_GRADCHECK(nll, {z});
    const auto second = tg::gradgradcheck(ce, {z});
    CHECK_MESSAGE(second.ok, second.report);
  }
}

TEST_CASE_TEMPLATE("cross_entropy in f32 agrees with f64", T, float, double) {
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  tg::Tensor z = tg::tensor({0.5, -1, 2, 0, 3, 1}, {2, 3}, {.dtype = dtype, .requires_grad = true});
  const tg::Tensor loss = tg::F::cross_entropy(z, labels({2, 1}, {2}));
  CHECK(loss.dtype() == dtype);
  const tg::Tensor reference = tg::F::cross_entropy(z.detach().to(tg::f64), labels({2, 1}, {2}));
  CHECK(loss.item() == doctest::Approx(reference.item()).epsilon(1e-6));
  loss.backward();
  CHECK(z.grad().dtype() == dtype);
}

TEST_CASE("binary_cross_entropy of probabilities, with PyTorch's gradient") {
  tg::Tensor p = leaf({0.25, 0.5, 0.8}, {3});
  tg::Tensor y = leaf({1, 0, 1}, {3});
  // −log 0.25 = log 4, −log(1 − 0.5) = log 2, −log 0.8
  const double t0 = std::log(4.0), t1 = std::log(2.0), t2 = -std::log(0.8);
  SUBCASE("mean") {
    const tg::Tensor loss = tg::F::binary_cross_entropy(p, y);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {(t0 + t1 + t2) / 3});
    loss.backward();
    // (p − y) / (p(1 − p)) / 3: −0.75/0.1875 = −4, 0.5/0.25 = 2, −0.2/0.16 = −1.25
    TG_CHECK_VALUES(p.grad(), {-4.0 / 3, 2.0 / 3, -1.25 / 3});
    // (log(1 − p) − log p) / 3: log 3, 0, log 0.25
    TG_CHECK_VALUES(y.grad(), {std::log(3.0) / 3, 0, std::log(0.25) / 3});
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::binary_cross_entropy(p, y, Reduction::sum);
    TG_CHECK_VALUES(loss, {t0 + t1 + t2});
    loss.backward();
    TG_CHECK_VALUES(p.grad(), {-4.0, 2.0, -1.25});
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::binary_cross_entropy(p, y, Reduction::none);
    CHECK(loss.shape() == tg::Shape{3});
    TG_CHECK_VALUES(loss, {t0, t1, t2});
  }
}

TEST_CASE("binary_cross_entropy stays finite at probabilities of exactly 0 and 1") {
  tg::Tensor p = leaf({0, 1, 0, 1}, {4});
  tg::Tensor y = leaf({0, 1, 1, 0}, {4});
  const tg::Tensor loss = tg::F::binary_cross_entropy(p, y, Reduction::sum);
  // right answers cost 0; each wrong one costs −max(log 0, −100) = 100
  TG_CHECK_VALUES(loss, {200});
  loss.backward();
  // (p − y) / max(p(1 − p), 1e-12): 0, 0, −1e12, 1e12
  TG_CHECK_VALUES_TOL(p.grad(), 1e-3, {0, 0, -1e12, 1e12});
  // max(log(1 − p), −100) − max(log p, −100): 0 + 100, −100 − 0, 100, −100
  TG_CHECK_VALUES(y.grad(), {100, -100, 100, -100});
  CHECK(all_finite(p.grad()));
}

TEST_CASE("binary_cross_entropy_with_logits is stable and its gradient is sigmoid − y") {
  tg::Tensor x = leaf({0, 2, -1}, {3});
  tg::Tensor y = leaf({1, 0, 0.5}, {3});
  // x = 0, y = 1: log 2;  x = 2, y = 0: 2 + log(1 + e^−2);  x = −1, y = ½: ½ + log(1 + e^−1)
  const double t0 = std::log(2.0), t1 = 2 + std::log(1 + std::exp(-2.0)),
               t2 = 0.5 + std::log(1 + std::exp(-1.0));
  SUBCASE("mean") {
    const tg::Tensor loss = tg::F::binary_cross_entropy_with_logits(x, y);
    TG_CHECK_VALUES(loss, {(t0 + t1 + t2) / 3});
    loss.backward();
    // (σ(x) − y) / 3 with σ(0) = ½, σ(2) = 1/(1 + e^−2), σ(−1) = 1/(1 + e)
    TG_CHECK_VALUES(x.grad(),
                    {-0.5 / 3, 1 / (1 + std::exp(-2.0)) / 3, (1 / (1 + std::exp(1.0)) - 0.5) / 3});
    TG_CHECK_VALUES(y.grad(), {0, -2.0 / 3, 1.0 / 3});  // −x / 3
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::binary_cross_entropy_with_logits(x, y, Reduction::sum);
    TG_CHECK_VALUES(loss, {t0 + t1 + t2});
    (loss * 2.0).backward();
    // 2·(σ(x) − y) and 2·(−x)
    TG_CHECK_VALUES(x.grad(), {-1, 2 / (1 + std::exp(-2.0)), 2 * (1 / (1 + std::exp(1.0)) - 0.5)});
    TG_CHECK_VALUES(y.grad(), {0, -4, 2});
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::binary_cross_entropy_with_logits(x, y, Reduction::none);
    CHECK(loss.shape() == tg::Shape{3});
    TG_CHECK_VALUES(loss, {t0, t1, t2});
    // G = [1, 2, 3] weighs each term's gradient: G·(σ(x) − y) and −G·x
    (loss * constant({1, 2, 3}, {3})).sum().backward();
    TG_CHECK_VALUES(x.grad(),
                    {-0.5, 2 / (1 + std::exp(-2.0)), 3 * (1 / (1 + std::exp(1.0)) - 0.5)});
    TG_CHECK_VALUES(y.grad(), {0, -4, 3});
  }
  SUBCASE("its backward refuses a target written in place since the forward") {
    tg::Tensor target = constant({1, 0, 0.5}, {3});
    const tg::Tensor loss = tg::F::binary_cross_entropy_with_logits(x, target);
    target.add_(1.0);
    const std::string message = tg::testing::error_message([&] { loss.backward(); });
    CAPTURE(message);
    CHECK(tg::testing::contains(message, "backward of 'binary_cross_entropy_with_logits'"));
    CHECK(tg::testing::contains(message, "modified by an inplace operation"));
  }
  SUBCASE("logits of ±1000") {
    tg::Tensor z = leaf({1000, -1000, 1000, -1000}, {4});
    const tg::Tensor target = constant({1, 0, 0, 1}, {4});
    const tg::Tensor loss = tg::F::binary_cross_entropy_with_logits(z, target, Reduction::none);
    // right: 0 + log(1 + e^−1000) = 0;  wrong: 1000
    TG_CHECK_VALUES(loss, {0, 0, 1000, 1000});
    loss.sum().backward();
    TG_CHECK_VALUES(z.grad(), {0, 0, 1, -1});  // σ(±1000) − y
  }
}

TEST_CASE("one SGD step of logistic regression from zero weights, the textbook example") {
  // w = b = 0, x = [3, 2], y = 1: σ(0) − 1 = −½, so dw = −½·[3, 2], db = −½;
  // with lr 0.1: w = [0.15, 0.10], b = 0.05.
  tg::Tensor w = leaf({0, 0}, {2});
  tg::Tensor b = leaf({0}, {1});
  const tg::Tensor x = constant({3, 2}, {2});
  const tg::Tensor logit = (w * x).sum().reshape({1}) + b;
  tg::F::binary_cross_entropy_with_logits(logit, constant({1}, {1})).backward();
  TG_CHECK_VALUES((w - 0.1 * w.grad()).detach(), {0.15, 0.10});
  TG_CHECK_VALUES((b - 0.1 * b.grad()).detach(), {0.05});
}

TEST_CASE("binary cross-entropy losses pass gradcheck in f64 for input and target") {
  tg::manual_seed(9);
  for (Reduction reduction : kReductions) {
    CAPTURE(static_cast<int>(reduction));
    const tg::Tensor p =
        (tg::rand({2, 3}, {.dtype = tg::f64}) * 0.8 + 0.1).detach().set_requires_grad();
    const tg::Tensor y = tg::rand({2, 3}, {.dtype = tg::f64, .requires_grad = true});
    const tg::Tensor x = tg::randn({2, 3}, {.dtype = tg::f64, .requires_grad = true});
    auto bce = [reduction](const std::vector<tg::Tensor>& in) {
      return tg::F::binary_cross_entropy(in[0], in[1], reduction);
    };
    auto bce_logits = [reduction](const std::vector<tg::Tensor>& in) {
      return tg::F::binary_cross_entropy_with_logits(in[0], in[1], reduction);
    };
    TG_CHECK_GRADCHECK(bce, {p, y});
    TG_CHECK_GRADCHECK(bce_logits, {x, y});
    const auto second = tg::gradgradcheck(bce_logits, {x, y});
    CHECK_MESSAGE(second.ok, second.report);
  }
}

TEST_CASE("kl_div is target·(log target − log_input), 0 where target is 0") {
  tg::Tensor log_q = leaf({std::log(0.25), std::log(0.5), std::log(0.25)}, {3});
  tg::Tensor t = leaf({0.5, 0.5, 0}, {3});
  // ½(log ½ − log ¼) = ½ log 2;  ½(log ½ − log ½) = 0;  0
  const double t0 = 0.5 * std::log(2.0);
  SUBCASE("mean over all elements") {
    const tg::Tensor loss = tg::F::kl_div(log_q, t);
    CHECK(loss.dim() == 0);
    TG_CHECK_VALUES(loss, {t0 / 3});
    loss.backward();
    TG_CHECK_VALUES(log_q.grad(), {-0.5 / 3, -0.5 / 3, 0});  // −target / 3
  }
  SUBCASE("sum") {
    const tg::Tensor loss = tg::F::kl_div(log_q, t, Reduction::sum);
    TG_CHECK_VALUES(loss, {t0});
    loss.backward();
    // log t + 1 − log_input: log ½ + 1 − log ¼ = log 2 + 1;  1;  0 where t = 0
    TG_CHECK_VALUES(t.grad(), {std::log(2.0) + 1, 1, 0});
  }
  SUBCASE("none") {
    const tg::Tensor loss = tg::F::kl_div(log_q, t, Reduction::none);
    CHECK(loss.shape() == tg::Shape{3});
    TG_CHECK_VALUES(loss, {t0, 0, 0});
  }
}

TEST_CASE("kl_div passes gradcheck in f64 for log_input and target") {
  tg::manual_seed(13);
  for (Reduction reduction : kReductions) {
    CAPTURE(static_cast<int>(reduction));
    const tg::Tensor log_q =
        tg::log_softmax(tg::randn({2, 4}, {.dtype = tg::f64}), 1).detach().set_requires_grad();
    const tg::Tensor t =
        tg::softmax(tg::randn({2, 4}, {.dtype = tg::f64}), 1).detach().set_requires_grad();
    TG_CHECK_GRADCHECK(
        [reduction](const std::vector<tg::Tensor>& in) {
          return tg::F::kl_div(in[0], in[1], reduction);
        },
        {log_q, t});
  }
}

TEST_CASE("cross_entropy and nll_loss reject bad targets and shapes") {
  const tg::Tensor z = constant({1, 2, 3, 4, 5, 6}, {2, 3});
  SUBCASE("targets that are not i64") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, constant({0, 1}, {2})), "cross_entropy", "i64", "f64");
    TG_CHECK_ERROR(tg::F::nll_loss(z, constant({0, 1}, {2})), "nll_loss", "i64", "f64");
  }
  SUBCASE("a target of the wrong dims") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, labels({0, 1}, {2, 1})), "cross_entropy", "[2, 1]",
                   "[2, 3]");
    TG_CHECK_ERROR(tg::F::cross_entropy(constant({1, 2}, {2}), labels({0, 1}, {2})),
                   "cross_entropy", "0-D", "[2]");
  }
  SUBCASE("logits that are not [N, C]") {
    TG_CHECK_ERROR(tg::F::cross_entropy(constant({1, 2}, {1, 1, 2}), labels({0}, {1})),
                   "cross_entropy", "[N, C]", "[1, 1, 2]");
    TG_CHECK_ERROR(tg::F::nll_loss(tg::scalar(1.0), labels({0}, {})), "nll_loss", "[N, C]");
  }
  SUBCASE("N mismatch") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, labels({0, 1, 2}, {3})), "cross_entropy", "[2, 3]",
                   "[3]");
    TG_CHECK_ERROR(tg::F::nll_loss(z, labels({0}, {1})), "nll_loss", "[2, 3]", "[1]");
  }
  SUBCASE("class index out of range") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, labels({0, 3}, {2})), "cross_entropy", "target 3",
                   "[0, 3)");
    TG_CHECK_ERROR(tg::F::nll_loss(z, labels({-1, 0}, {2})), "nll_loss", "target -1", "[0, 3)");
  }
  SUBCASE("i64 logits") {
    TG_CHECK_ERROR(tg::F::cross_entropy(labels({1, 2}, {1, 2}), labels({0}, {1})), "cross_entropy",
                   "i64");
  }
}

TEST_CASE("binary cross-entropy and kl_div reject mismatched shapes and bad probabilities") {
  const tg::Tensor a = constant({0.5, 0.5}, {2});
  const tg::Tensor b = constant({0.5, 0.5}, {1, 2});
  TG_CHECK_ERROR(tg::F::binary_cross_entropy(a, b), "binary_cross_entropy", "[2]", "[1, 2]");
  TG_CHECK_ERROR(tg::F::binary_cross_entropy_with_logits(a, b), "binary_cross_entropy_with_logits",
                 "[2]", "[1, 2]");
  TG_CHECK_ERROR(tg::F::kl_div(a, b), "kl_div", "[2]", "[1, 2]");
  TG_CHECK_ERROR(tg::F::binary_cross_entropy(constant({0.5, 1.5}, {2}), a), "binary_cross_entropy",
                 "[0, 1]", "1.5");
  TG_CHECK_ERROR(tg::F::binary_cross_entropy(constant({-0.1, 0.5}, {2}), a), "binary_cross_entropy",
                 "[0, 1]", "-0.1");
}

// ---- CrossEntropyOptions and NLLLossOptions: weight, ignore_index, label_smoothing ----

namespace {
// Rows [1, 2, 3] (target 2) and [1, 1, 1] (target 0) and [0, 5, 0] (target 1, often ignored);
// class weights [1, 2, 0.5].
const double kLse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
const double kLse1 = 1 + std::log(3.0);
const double kNorm0 = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
const std::vector<double> kP0 = {std::exp(1.0) / kNorm0, std::exp(2.0) / kNorm0,
                                 std::exp(3.0) / kNorm0};

tg::Tensor three_rows() { return leaf({1, 2, 3, 1, 1, 1, 0, 5, 0}, {3, 3}); }
tg::Tensor class_weights() { return constant({1, 2, 0.5}, {3}); }
}  // namespace

TEST_CASE("cross_entropy with class weights divides by the summed weight of the targets") {
  tg::Tensor z = three_rows();
  const tg::Tensor y = labels({2, 0, 1}, {3});
  const tg::Tensor lse2 = tg::logsumexp(constant({0, 5, 0}, {3}), 0);
  const double row2 = lse2.item() - 5;  // log(2 + e⁵) − 5
  SUBCASE("mean: Σ w_y·l / Σ w_y") {
    const tg::Tensor loss = tg::F::cross_entropy(z, y, {.weight = class_weights()});
    // (0.5·(lse0 − 3) + 1·log 3 + 2·row2) / (0.5 + 1 + 2)
    TG_CHECK_VALUES(loss, {(0.5 * (kLse0 - 3) + std::log(3.0) + 2 * row2) / 3.5});
    loss.backward();
    const std::vector<double> p2 = {1 / (2 + std::exp(5.0)), std::exp(5.0) / (2 + std::exp(5.0)),
                                    1 / (2 + std::exp(5.0))};
    TG_CHECK_VALUES(z.grad(), {0.5 * kP0[0] / 3.5, 0.5 * kP0[1] / 3.5, 0.5 * (kP0[2] - 1) / 3.5,
                               (1.0 / 3 - 1) / 3.5, 1.0 / 3 / 3.5, 1.0 / 3 / 3.5, 2 * p2[0] / 3.5,
                               2 * (p2[1] - 1) / 3.5, 2 * p2[2] / 3.5});
  }
  SUBCASE("sum and none: each term times its weight") {
    TG_CHECK_VALUES(
        tg::F::cross_entropy(z, y, {.weight = class_weights(), .reduction = Reduction::sum}),
        {0.5 * (kLse0 - 3) + std::log(3.0) + 2 * row2});
    TG_CHECK_VALUES(
        tg::F::cross_entropy(z, y, {.weight = class_weights(), .reduction = Reduction::none}),
        {0.5 * (kLse0 - 3), std::log(3.0), 2 * row2});
  }
}

TEST_CASE("cross_entropy's ignored samples give no loss and no gradient") {
  tg::Tensor z = three_rows();
  SUBCASE("the default ignore_index −100, mean over the counted samples") {
    const tg::Tensor loss = tg::F::cross_entropy(z, labels({2, 0, -100}, {3}), {});
    TG_CHECK_VALUES(loss, {((kLse0 - 3) + std::log(3.0)) / 2});
    loss.backward();
    TG_CHECK_VALUES(z.grad(), {kP0[0] / 2, kP0[1] / 2, (kP0[2] - 1) / 2, (1.0 / 3 - 1) / 2, 1.0 / 6,
                               1.0 / 6, 0, 0, 0});
  }
  SUBCASE("a chosen ignore_index, with weights") {
    const tg::Tensor loss = tg::F::cross_entropy(z, labels({2, 0, 1}, {3}),
                                                 {.weight = class_weights(), .ignore_index = 1});
    TG_CHECK_VALUES(loss, {(0.5 * (kLse0 - 3) + std::log(3.0)) / 1.5});
    loss.backward();
    TG_CHECK_VALUES(z.grad(), {0.5 * kP0[0] / 1.5, 0.5 * kP0[1] / 1.5, 0.5 * (kP0[2] - 1) / 1.5,
                               (1.0 / 3 - 1) / 1.5, 1.0 / 3 / 1.5, 1.0 / 3 / 1.5, 0, 0, 0});
  }
  SUBCASE("none gives 0 for the ignored sample") {
    TG_CHECK_VALUES(
        tg::F::cross_entropy(z, labels({2, -100, 1}, {3}), {.reduction = Reduction::none}),
        {kLse0 - 3, 0, tg::logsumexp(constant({0, 5, 0}, {3}), 0).item() - 5});
  }
  SUBCASE("every sample ignored: NaN for mean (0/0, as PyTorch), 0 for sum, no gradient") {
    const tg::Tensor y = labels({-100, -100, -100}, {3});
    const tg::Tensor mean = tg::F::cross_entropy(z, y, {.label_smoothing = 0.1});
    CHECK(std::isnan(mean.item()));
    mean.backward();
    TG_CHECK_VALUES(z.grad(), {0, 0, 0, 0, 0, 0, 0, 0, 0});
    TG_CHECK_VALUES(tg::F::cross_entropy(z, y, {.reduction = Reduction::sum}), {0});
    TG_CHECK_VALUES(tg::F::nll_loss(z, y, {.weight = class_weights()}), {std::nan("")});
  }
}

TEST_CASE("cross_entropy with label smoothing ε mixes in ε/C of every class, as PyTorch") {
  tg::Tensor z = three_rows();
  const tg::Tensor y = labels({2, 0, -100}, {3});
  const double eps = 0.2;
  SUBCASE("without weights: (1 − ε)·(lse − z_y) + ε/C·Σ_c (lse − z_c)") {
    const tg::Tensor loss = tg::F::cross_entropy(z, y, {.label_smoothing = eps});
    const double row0 = 0.8 * (kLse0 - 3) + eps / 3 * (3 * kLse0 - 6);
    const double row1 = std::log(3.0);  // all logits equal: every class costs log 3
    TG_CHECK_VALUES(loss, {(row0 + row1) / 2});
    loss.backward();
    // row 0: p − (1 − ε)·onehot − ε/C, halved; row 1 the same with p = ⅓; row 2 ignored
    TG_CHECK_VALUES(z.grad(), {(kP0[0] - eps / 3) / 2, (kP0[1] - eps / 3) / 2,
                               (kP0[2] - 0.8 - eps / 3) / 2, (1.0 / 3 - 0.8 - eps / 3) / 2,
                               (1.0 / 3 - eps / 3) / 2, (1.0 / 3 - eps / 3) / 2, 0, 0, 0});
  }
  SUBCASE("with weights: (1 − ε)·w_y·(lse − z_y) + ε/C·Σ_c w_c·(lse − z_c), over Σ w_y") {
    const tg::Tensor loss =
        tg::F::cross_entropy(z, y, {.weight = class_weights(), .label_smoothing = eps});
    const double row0 =
        0.8 * 0.5 * (kLse0 - 3) + eps / 3 * (1 * (kLse0 - 1) + 2 * (kLse0 - 2) + 0.5 * (kLse0 - 3));
    const double row1 = 0.8 * 1 * std::log(3.0) + eps / 3 * 3.5 * std::log(3.0);
    TG_CHECK_VALUES(loss, {(row0 + row1) / 1.5});
    loss.backward();
    // dl/dz_j = p_j·((1 − ε)·w_y + ε·W/C) − (1 − ε)·w_y·δ_yj − ε/C·w_j with W = 3.5
    const double a0 = 0.8 * 0.5 + eps * 3.5 / 3, a1 = 0.8 * 1 + eps * 3.5 / 3;
    TG_CHECK_VALUES(z.grad(), {(kP0[0] * a0 - eps / 3 * 1) / 1.5, (kP0[1] * a0 - eps / 3 * 2) / 1.5,
                               (kP0[2] * a0 - 0.8 * 0.5 - eps / 3 * 0.5) / 1.5,
                               (a1 / 3 - 0.8 - eps / 3 * 1) / 1.5, (a1 / 3 - eps / 3 * 2) / 1.5,
                               (a1 / 3 - eps / 3 * 0.5) / 1.5, 0, 0, 0});
  }
  SUBCASE("sum and none") {
    const double row0 = 0.8 * (kLse0 - 3) + eps / 3 * (3 * kLse0 - 6);
    TG_CHECK_VALUES(
        tg::F::cross_entropy(z, y, {.reduction = Reduction::none, .label_smoothing = eps}),
        {row0, std::log(3.0), 0});
    TG_CHECK_VALUES(
        tg::F::cross_entropy(z, y, {.reduction = Reduction::sum, .label_smoothing = eps}),
        {row0 + std::log(3.0)});
  }
}

TEST_CASE("cross_entropy with weights and smoothing stays finite for logits of ±1000") {
  tg::Tensor z = leaf({1000, -1000, 0, -1000, 1000, 1000}, {2, 3});
  const tg::Tensor loss = tg::F::cross_entropy(
      z, labels({0, 1}, {2}),
      {.weight = class_weights(), .reduction = Reduction::none, .label_smoothing = 0.3});
  // row 0: lse = 1000, so lse − z = [0, 2000, 1000]: 0.7·1·0 + 0.1·(2·2000 + 0.5·1000)
  // row 1: lse = 1000 + log 2, lse − z = [2000 + log 2, log 2, log 2]:
  //        0.7·2·log 2 + 0.1·(2000 + log 2 + 2 log 2 + 0.5 log 2)
  const double log2 = std::log(2.0);
  TG_CHECK_VALUES_TOL(loss, 1e-9, {450, 0.7 * 2 * log2 + 0.1 * (2000 + 3.5 * log2)});
  loss.sum().backward();
  CHECK(all_finite(z.grad()));
  // row 0: p = [1, 0, 0], a = 0.7·1 + 0.3·3.5/3 = 1.05: [1.05 − 0.7 − 0.1, −0.2, −0.05]
  TG_CHECK_VALUES_TOL(
      z.grad(), 1e-12,
      {0.25, -0.2, -0.05, -0.1, 0.5 * (0.7 * 2 + 0.35) - 1.4 - 0.2, 0.5 * (0.7 * 2 + 0.35) - 0.05});
}

TEST_CASE("nll_loss with weights and ignore_index") {
  tg::Tensor lp = leaf({-1, -2, -3, -0.5, -1.5, -2.5}, {2, 3});
  SUBCASE("weighted mean: (0.5·3 + 1·0.5) / (0.5 + 1)") {
    const tg::Tensor loss = tg::F::nll_loss(lp, labels({2, 0}, {2}), {.weight = class_weights()});
    TG_CHECK_VALUES(loss, {2.0 / 1.5});
    loss.backward();
    TG_CHECK_VALUES(lp.grad(), {0, 0, -0.5 / 1.5, -1 / 1.5, 0, 0});
  }
  SUBCASE("sum and none") {
    const tg::Tensor y = labels({2, 0}, {2});
    TG_CHECK_VALUES(
        tg::F::nll_loss(lp, y, {.weight = class_weights(), .reduction = Reduction::sum}), {2.0});
    TG_CHECK_VALUES(
        tg::F::nll_loss(lp, y, {.weight = class_weights(), .reduction = Reduction::none}),
        {1.5, 0.5});
  }
  SUBCASE("an ignored sample: no loss, no gradient, not in the divisor") {
    const tg::Tensor loss =
        tg::F::nll_loss(lp, labels({2, 0}, {2}), {.weight = class_weights(), .ignore_index = 0});
    TG_CHECK_VALUES(loss, {3.0});  // 0.5·3 / 0.5
    loss.backward();
    TG_CHECK_VALUES(lp.grad(), {0, 0, -1, 0, 0, 0});
  }
  SUBCASE("agrees with cross_entropy of the logits for every option") {
    tg::manual_seed(11);
    const tg::Tensor z = tg::randn({4, 3}, {.dtype = tg::f64});
    const tg::Tensor y = labels({1, -100, 2, 0}, {4});
    for (Reduction reduction : kReductions) {
      CAPTURE(static_cast<int>(reduction));
      TG_CHECK_VALUES_TOL(
          tg::F::cross_entropy(z, y, {.weight = class_weights(), .reduction = reduction}), 1e-12,
          tg::F::nll_loss(tg::log_softmax(z, 1), y,
                          {.weight = class_weights(), .reduction = reduction})
              .to_vector());
    }
  }
}

TEST_CASE("cross_entropy and nll_loss with options pass gradcheck and gradgradcheck in f64") {
  tg::manual_seed(13);
  const tg::Tensor y = labels({2, 0, -100, 3, 1}, {5});
  const tg::Tensor weight = constant({0.5, 2, 1, 3}, {4});
  for (Reduction reduction : kReductions)
    for (double smoothing : {0.0, 0.25}) {
      for (bool weighted : {false, true}) {
        CAPTURE(static_cast<int>(reduction));
        CAPTURE(smoothing);
        CAPTURE(weighted);
        const tg::F::CrossEntropyOptions options{.weight = weighted ? weight : tg::Tensor(),
                                                 .reduction = reduction,
                                                 .label_smoothing = smoothing};
        auto ce = [&](const std::vector<tg::Tensor>& in) {
          return tg::F::cross_entropy(in[0], y, options);
        };
        auto nll = [&](const std::vector<tg::Tensor>& in) {
          return tg::F::nll_loss(in[0], y,
                                 {.weight = options.weight, .reduction = options.reduction});
        };
        const tg::Tensor z = tg::randn({5, 4}, {.dtype = tg::f64, .requires_grad = true});
        TG_CHECK_GRADCHECK(ce, {z});
        TG_CHECK_GRADCHECK(nll, {z});
        const auto second = tg::gradgradcheck(ce, {z});
        CHECK_MESSAGE(second.ok, second.report);
        const auto nll_second = tg::gradgradcheck(nll, {z});
        CHECK_MESSAGE(nll_second.ok, nll_second.report);
      }
    }
}

TEST_CASE_TEMPLATE("cross_entropy with options in f32 agrees with f64", T, float, double) {
  const tg::DType dtype = std::is_same_v<T, float> ? tg::f32 : tg::f64;
  tg::Tensor z = tg::tensor({0.5, -1, 2, 0, 3, 1}, {2, 3}, {.dtype = dtype, .requires_grad = true});
  const tg::F::CrossEntropyOptions options{.weight = tg::tensor({1, 2, 0.5}, {.dtype = dtype}),
                                           .label_smoothing = 0.1};
  const tg::Tensor loss = tg::F::cross_entropy(z, labels({2, 1}, {2}), options);
  CHECK(loss.dtype() == dtype);
  tg::Tensor z64 = z.detach().to(tg::f64).set_requires_grad();
  const tg::Tensor reference = tg::F::cross_entropy(
      z64, labels({2, 1}, {2}), {.weight = class_weights(), .label_smoothing = 0.1});
  CHECK(loss.item() == doctest::Approx(reference.item()).epsilon(1e-6));
  loss.backward();
  reference.backward();
  CHECK(z.grad().dtype() == dtype);
  TG_CHECK_VALUES_TOL(z.grad().to(tg::f64), 1e-6, z64.grad().to_vector());
}

TEST_CASE("cross_entropy and nll_loss reject bad options") {
  const tg::Tensor z = constant({1, 2, 3, 4, 5, 6}, {2, 3});
  const tg::Tensor y = labels({0, 1}, {2});
  SUBCASE("a weight that is not [C]") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, y, {.weight = constant({1, 2}, {2})}), "cross_entropy",
                   "weight", "[3]", "[2]");
    TG_CHECK_ERROR(tg::F::nll_loss(z, y, {.weight = labels({1, 2, 3}, {3})}), "nll_loss", "weight",
                   "i64");
  }
  SUBCASE("a weight that requires grad") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, y, {.weight = leaf({1, 2, 3}, {3})}), "cross_entropy",
                   "weight", "no gradient");
  }
  SUBCASE("label_smoothing outside [0, 1]") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, y, {.label_smoothing = 1.5}), "cross_entropy",
                   "label_smoothing", "1.5");
    TG_CHECK_ERROR(tg::F::cross_entropy(z, y, {.label_smoothing = -0.1}), "cross_entropy",
                   "label_smoothing", "-0.1");
  }
  SUBCASE("targets out of range that are not the ignore_index") {
    TG_CHECK_ERROR(tg::F::cross_entropy(z, labels({0, -100}, {2}), {.ignore_index = -1}),
                   "cross_entropy", "target -100", "[0, 3)");
  }
}
