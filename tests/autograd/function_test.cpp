// Custom functions: a user's forward/backward pair records, prints and gradchecks like an op.
#include <doctest/doctest.h>

#include <tapegrad/autograd.hpp>

#include "support/testing.hpp"

namespace {

struct Square : tg::autograd::Function<Square> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    const tg::Tensor x = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * 2.0 * x};  // d(x²)/dx = 2x
  }
};

// The same op with a slip in its backward: 3x instead of 2x.
struct WrongSquare : tg::autograd::Function<WrongSquare> {
  static constexpr const char* name = "wrong_square";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    return {grad_outputs[0] * 3.0 * ctx->get_saved_variables()[0]};
  }
};

// a·x + b with a plain double among the arguments: one gradient per tensor argument.
struct ScaleShift : tg::autograd::Function<ScaleShift> {
  static constexpr const char* name = "scale_shift";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x, double a,
                            const tg::Tensor& b) {
    ctx->saved_data["a"] = a;
    return x * a + b;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    return {grad_outputs[0] * ctx->saved_data["a"], grad_outputs[0]};
  }
};

tg::Tensor f64_input(std::vector<double> values) {
  const auto n = static_cast<int64_t>(values.size());
  return tg::tensor(std::move(values), {n}, {.dtype = tg::f64, .requires_grad = true});
}

}  // namespace

TEST_CASE("a custom op with a correct backward passes gradcheck") {
  const auto result =
      tg::gradcheck([](const std::vector<tg::Tensor>& in) { return Square::apply(in[0]); },
                    {f64_input({0.5, -1.25, 2.0})});
  CHECK_MESSAGE(result.ok, result.report);
  CHECK(result.max_abs_error < 1e-8);
}

TEST_CASE("a custom op with a wrong backward fails gradcheck and the report names the element") {
  const auto result =
      tg::gradcheck([](const std::vector<tg::Tensor>& in) { return WrongSquare::apply(in[0]); },
                    {f64_input({0.5, -1.25, 2.0})});
  CAPTURE(result.report);
  CHECK_FALSE(result.ok);
  // element [1]: analytical 3·(−1.25) = −3.75, numerical 2·(−1.25) = −2.5
  CHECK(result.report.find("input 0 [3], element [1] -> output [1]: analytical -3.75, "
                           "numerical -2.5") != std::string::npos);
  CHECK(result.max_abs_error ==
        doctest::Approx(2.0).epsilon(1e-6));  // |3x − 2x| = |x|, largest at x = 2
}

TEST_CASE("a custom op takes non-tensor arguments and returns one gradient per tensor") {
  tg::Tensor x = f64_input({1.0, 2.0});
  tg::Tensor b = f64_input({0.5, 0.5});
  tg::Tensor y = ScaleShift::apply(x, 3.0, b);
  CHECK(y.to_vector() == std::vector<double>{3.5, 6.5});
  y.sum().backward();
  CHECK(x.grad().to_vector() == std::vector<double>{3.0, 3.0});
  CHECK(b.grad().to_vector() == std::vector<double>{1.0, 1.0});
  const auto result = tg::gradcheck(
      [](const std::vector<tg::Tensor>& in) { return ScaleShift::apply(in[0], -2.0, in[1]); },
      {f64_input({1.0, 2.0}), f64_input({0.5, 0.5})});
  CHECK_MESSAGE(result.ok, result.report);
}

TEST_CASE("a custom op is one record on the tape, under its own name") {
  tg::Tensor x = f64_input({1.0, 2.0});
  const tg::Tensor y = Square::apply(x).sum();
  const std::string tape = tg::autograd::format_tape(y);
  CAPTURE(tape);
  CHECK(tape.find("#1  (anonymous namespace)::Square(leaf 0) -> [2] f64") != std::string::npos);
  CHECK(tape.find("#2  sum(#1) -> [] f64") != std::string::npos);
  CHECK(tape.find("mul") == std::string::npos);  // the forward's inner ops are not recorded
}

TEST_CASE("a custom op whose forward returns its input does not give that input a history") {
  struct Identity : tg::autograd::Function<Identity> {
    static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x) { return x; }
    static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                            std::vector<tg::Tensor> g) {
      return {g[0]};
    }
  };
  tg::Tensor x = f64_input({1.0});
  tg::Tensor y = Identity::apply(x);
  CHECK(x.is_leaf());
  CHECK_FALSE(y.is_leaf());
  y.sum().backward();
  CHECK(x.grad().item() == 1.0);
}

TEST_CASE("a custom op's backward is differentiable when written with ops") {
  const auto result =
      tg::gradgradcheck([](const std::vector<tg::Tensor>& in) { return Square::apply(in[0]); },
                        {f64_input({0.5, -1.25, 2.0})});
  CHECK_MESSAGE(result.ok, result.report);
}

namespace {

// What a forward hands its backward that is not a number: here, where to log the gradient.
struct GradientLog {
  std::vector<double> seen;
};

// Identity that appends the incoming gradient to the GradientLog given to its forward.
struct LoggedIdentity : tg::autograd::Function<LoggedIdentity> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x,
                            std::shared_ptr<GradientLog> log) {
    ctx->set_payload(std::move(log));
    return x;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    GradientLog& log = ctx->payload<GradientLog>();
    const std::vector<double> g = grad_outputs[0].to_vector();
    log.seen.insert(log.seen.end(), g.begin(), g.end());
    return {grad_outputs[0]};  // d(x)/dx = 1
  }
};

}  // namespace

TEST_CASE("a custom op's backward reads the typed payload its forward stored") {
  auto log = std::make_shared<GradientLog>();
  tg::Tensor x = f64_input({1.0, 2.0});
  (LoggedIdentity::apply(x, log) * tg::tensor({3.0, 5.0}, {2}, {.dtype = tg::f64}))
      .sum()
      .backward();
  CHECK(log->seen == std::vector<double>{3.0, 5.0});
  CHECK(x.grad().to_vector() == std::vector<double>{3.0, 5.0});
  CHECK(log.use_count() == 1);  // the tape let go of it with the consumed record
}

TEST_CASE("AutogradContext::payload names the types when none or another type was stored") {
  tg::autograd::AutogradContext context;
  TG_CHECK_ERROR(context.payload<GradientLog>(), "payload", "GradientLog", "no payload");
  context.set_payload(std::make_shared<int>(7));
  CHECK(context.payload<int>() == 7);
  TG_CHECK_ERROR(context.payload<GradientLog>(), "payload<", "GradientLog", "is a int");
  TG_CHECK_ERROR(context.set_payload(std::shared_ptr<GradientLog>()), "set_payload", "GradientLog",
                 "null");
}
