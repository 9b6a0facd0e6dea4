// Anomaly mode: the first op whose forward or backward makes NaN or Inf is named in a tg::Error.
#include <cmath>

#include "support/testing.hpp"
#include "unary_ops.hpp"

using tg::testing::error_message;

TEST_CASE("anomaly mode names log for a log(0 * x) in forward") {
  tg::autograd::DetectAnomalyGuard anomaly;
  tg::Tensor x = tg::tensor({1.0, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  const std::string message = error_message([&] { (void)tg::log(x * 0.0); });
  CAPTURE(message);
  CHECK(message.find("anomaly: forward of 'log' produced Inf") != std::string::npos);
}

TEST_CASE("anomaly mode names the record whose backward made a NaN or Inf") {
  tg::autograd::DetectAnomalyGuard anomaly;
  SUBCASE("sqrt at 0: finite forward, infinite derivative") {
    tg::Tensor x = tg::tensor({0.0, 4.0}, {.dtype = tg::f64, .requires_grad = true});
    const tg::Tensor y = tg::sqrt(x).sum();
    const std::string message = error_message([&] { y.backward(); });
    CAPTURE(message);
    CHECK(message.find("anomaly: backward of 'sqrt'") != std::string::npos);
    CHECK(message.find("produced Inf in the gradient of input 0") != std::string::npos);
    CHECK_FALSE(x.grad().defined());  // nothing reached the leaf
  }
  SUBCASE("div by an infinite-gradient input: NaN from 0 * inf") {
    tg::Tensor x = tg::tensor({0.0}, {.dtype = tg::f64, .requires_grad = true});
    const tg::Tensor y = (tg::sqrt(x) * 0.0).sum();
    const std::string message = error_message([&] { y.backward(); });
    CAPTURE(message);
    CHECK(message.find("anomaly: backward of 'sqrt'") != std::string::npos);
    CHECK(message.find("NaN") != std::string::npos);
  }
}

TEST_CASE("without anomaly mode non-finite values pass silently, as in PyTorch") {
  tg::Tensor x = tg::tensor({0.0}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor y = tg::log(x).sum();
  CHECK(std::isinf(y.item()));
  y.backward();
  CHECK(std::isinf(x.grad().item()));
}

TEST_CASE("the anomaly guard restores the previous setting") {
  CHECK_FALSE(tg::autograd::is_anomaly_enabled());
  {
    tg::autograd::DetectAnomalyGuard anomaly;
    CHECK(tg::autograd::is_anomaly_enabled());
  }
  CHECK_FALSE(tg::autograd::is_anomaly_enabled());
}

TEST_CASE("anomaly mode runs every unary op cleanly in its domain and names it for a NaN") {
  tg::autograd::DetectAnomalyGuard anomaly;
  tg::manual_seed(8);
  for (const auto& op : tg::testing::unary_ops()) {
    SUBCASE(op.label) {
      const tg::Tensor x = op.kinked ? tg::testing::signed_away_from_zero({4})
                                     : tg::testing::uniform({4}, op.lo, op.hi);
      CHECK_NOTHROW(op.fn(x).sum().backward());
      // A NaN reaching the op's backward is reported as the op's, under its recorded name.
      const tg::Tensor y = op.fn(x);
      const tg::Tensor nan_grad = tg::tensor({1.0, NAN, 1.0, 1.0}, {.dtype = tg::f64});
      const std::string message = error_message([&] { y.backward(nan_grad); });
      CAPTURE(message);
      CHECK(message.find(std::string("anomaly: backward of '") + op.record + "'") !=
            std::string::npos);
    }
  }
}
