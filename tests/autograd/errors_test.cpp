// Every misuse of API.md throws tg::Error whose message names the op and the shapes.
#include "support/testing.hpp"

using tg::testing::contains;
using tg::testing::error_message;

namespace {
tg::Tensor f64(tg::Shape shape) { return tg::zeros(std::move(shape), {.dtype = tg::f64}); }
}  // namespace

TEST_CASE("shapes that do not broadcast") {
  TG_CHECK_ERROR(f64({2, 3}) + f64({4}), "add", "[2, 3]", "[4]");
  TG_CHECK_ERROR(f64({2, 3}) * f64({3, 2}), "mul", "[2, 3]", "[3, 2]");
  TG_CHECK_ERROR(tg::maximum(f64({2}), f64({3})), "maximum", "[2]", "[3]");
  TG_CHECK_ERROR(tg::eq(f64({2}), f64({3})), "eq", "[2]", "[3]");
}

TEST_CASE("matmul with inner sizes that differ") {
  TG_CHECK_ERROR(tg::matmul(f64({3, 4}), f64({5, 6})),
                 "matmul: [3, 4] @ [5, 6]: inner sizes 4 and 5 differ");
  TG_CHECK_ERROR(tg::matmul(f64({3}), f64({4})), "matmul", "[3]", "[4]");
  TG_CHECK_ERROR(tg::matmul(f64({2, 3, 4}), f64({3, 4, 2})), "matmul", "batch");
  TG_CHECK_ERROR(tg::matmul(f64({1, 2, 3, 4}), f64({5})), "matmul", "[1, 2, 3, 4]", "inner");
  TG_CHECK_ERROR(tg::linear(f64({2, 3}), f64({4, 5})), "linear", "[2, 3]", "[4, 5]");
}

TEST_CASE("wrong dtypes") {
  const tg::Tensor ints = tg::arange(3);
  TG_CHECK_ERROR(ints.mean(), "mean", "i64");
  TG_CHECK_ERROR(tg::matmul(tg::zeros({2, 2}), f64({2, 2})), "matmul", "f32", "f64");
  TG_CHECK_ERROR(
      tg::matmul(tg::zeros({2, 2}, {.dtype = tg::i64}), tg::zeros({2, 2}, {.dtype = tg::i64})),
      "matmul", "i64");
  TG_CHECK_ERROR(tg::zeros({2}).data<double>(), "data", "f32");
}

TEST_CASE("mixed dtypes promote as in PyTorch instead of failing") {
  // PyTorch's type promotion: i64 → f32 for floating ops, f32 with f64 → f64.
  CHECK(tg::exp(tg::arange(3)).dtype() == tg::f32);
  CHECK((tg::zeros({2}) + f64({2})).dtype() == tg::f64);
  CHECK((tg::arange(2) * 0.5).dtype() == tg::f32);
}

TEST_CASE("dims out of range") {
  TG_CHECK_ERROR(f64({2, 3}).sum(2), "sum", "dim 2", "[2, 3]");
  TG_CHECK_ERROR(f64({2, 3}).sum(-3), "sum", "[2, 3]");
  TG_CHECK_ERROR(tg::softmax(f64({2, 3}), 5), "softmax", "[2, 3]");
  TG_CHECK_ERROR(f64({2, 3}).transpose(0, 2), "transpose", "[2, 3]");
  TG_CHECK_ERROR(tg::cat({f64({2}), f64({2})}, 1), "cat", "[2]");
  TG_CHECK_ERROR(f64({2}).unsqueeze(3), "unsqueeze", "[2]");
  TG_CHECK_ERROR(f64({2, 3}).argmax(2), "argmax", "[2, 3]");
  TG_CHECK_ERROR(f64({}).sum(1), "sum", "0-D", "-1 to 0");  // 0 and -1 are valid, as PyTorch
  TG_CHECK_ERROR(tg::cat({f64({}), f64({})}, 0), "cat", "0-D", "[]");
}

TEST_CASE("item on many elements and backward on a non-scalar") {
  TG_CHECK_ERROR(f64({2, 2}).item(), "item", "[2, 2]", "4 elements");
  tg::Tensor w = tg::ones({3}, {.dtype = tg::f64, .requires_grad = true});
  TG_CHECK_ERROR((w * 2.0).backward(), "backward", "[3]");
  TG_CHECK_ERROR((w * 2.0).backward(f64({2})), "backward", "[2]", "[3]");
}

TEST_CASE("an i64 tensor cannot require grad") {
  tg::Tensor ints = tg::arange(3);
  TG_CHECK_ERROR(ints.set_requires_grad(), "set_requires_grad", "i64", "[3]");
  CHECK_THROWS_AS(tg::zeros({2}, {.dtype = tg::i64, .requires_grad = true}), tg::Error);
}

TEST_CASE("reshape with bad sizes") {
  TG_CHECK_ERROR(f64({2, 3}).reshape({4, 2}), "reshape", "[2, 3]", "[4, 2]");
  TG_CHECK_ERROR(f64({2, 3}).reshape({-1, -1}), "reshape", "only one -1");
  TG_CHECK_ERROR(f64({2, 3}).reshape({-1, 4}), "reshape", "[2, 3]");
  TG_CHECK_ERROR(f64({2, 3}).t().t().reshape({7}), "reshape");
  TG_CHECK_ERROR(f64({2, 2, 2}).t(), "t", "[2, 2, 2]");
}

TEST_CASE("cat of mismatched shapes or of nothing") {
  TG_CHECK_ERROR(tg::cat({f64({2, 3}), f64({2, 4})}, 0), "cat", "[2, 3]", "[2, 4]");
  TG_CHECK_ERROR(tg::cat({}, 0), "cat");
}

TEST_CASE("indices out of range or of the wrong dtype") {
  const tg::Tensor x = f64({3, 2});
  TG_CHECK_ERROR(x.index_select(0, tg::tensor({3}, {1}, {.dtype = tg::i64})), "index_select", "3",
                 "[3, 2]");
  TG_CHECK_ERROR(x.index_select(0, tg::tensor({-1}, {1}, {.dtype = tg::i64})), "index_select",
                 "-1");
  TG_CHECK_ERROR(x.index_select(0, tg::tensor({0}, {1})), "index_select", "i64");
  TG_CHECK_ERROR(x.gather(1, tg::tensor({0, 2, 1}, {3, 1}, {.dtype = tg::i64})), "gather", "2",
                 "[3, 2]");
  TG_CHECK_ERROR(x.gather(1, tg::tensor({0, 1}, {2}, {.dtype = tg::i64})), "gather", "[3, 2]");
}

// clamp with lo > hi is no error: every element becomes hi, as PyTorch (semantics_test).
TEST_CASE("narrow with bad bounds, and tensor with the wrong number of values") {
  TG_CHECK_ERROR(tg::narrow(f64({3, 4}), 1, 3, 2), "narrow", "[3, 4]");
  TG_CHECK_ERROR(tg::tensor({1, 2, 3}, {2, 2}), "tensor", "[2, 2]");
  TG_CHECK_ERROR(tg::randint(3, 3, {2}), "randint");
  TG_CHECK_ERROR(tg::zeros({2, -1}), "[2, -1]");
}

TEST_CASE("gradcheck rejects f32 inputs and advises f64") {
  const tg::Tensor x = tg::ones({2}, {.requires_grad = true});
  TG_CHECK_ERROR(tg::gradcheck([](const std::vector<tg::Tensor>& in) { return in[0] * 2.0; }, {x}),
                 "gradcheck", "f64");
}

TEST_CASE("tg::grad of an input that does not require grad") {
  const tg::Tensor x = f64({2});
  tg::Tensor w = tg::ones({2}, {.dtype = tg::f64, .requires_grad = true});
  TG_CHECK_ERROR(tg::grad({(w * x).sum()}, {x}), "grad", "input 0");
}

TEST_CASE("an undefined tensor used in an op") {
  TG_CHECK_ERROR(tg::Tensor() + f64({2}), "undefined");
  TG_CHECK_ERROR(tg::Tensor().item(), "undefined");
}
