// Seeing the tape: format_tape and to_dot on a small fixed graph, line by line.
#include <doctest/doctest.h>

#include <sstream>
#include <tapegrad/autograd.hpp>

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("format_tape lists leaves and records in tape order, with values and gradients") {
  tg::autograd::TapeInspectionGuard inspect;
  tg::Tensor w = tg::tensor({1.0, 2.0}, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor b = tg::scalar(0.5, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor x = tg::tensor({3.0, -1.0}, {.dtype = tg::f64});
  const tg::Tensor loss = tg::exp((w * x).sum() + b);  // exp(3 − 2 + 0.5) = e^1.5

  SUBCASE("before backward: ops, inputs, shapes and values") {
    const auto got = lines(tg::autograd::format_tape(loss, {.values = true, .gradients = false}));
    const std::vector<std::string> expected = {
        "leaf 0  [2] f64  value [1, 2]",
        "leaf 1  [] f64  value 0.5",
        "#1  mul(leaf 0, const) -> [2] f64  value [3, -2]",
        "#2  sum(#1) -> [] f64  value 1",
        "#3  add(#2, leaf 1) -> [] f64  value 1.5",
        "#4  exp(#3) -> [] f64  value 4.48169",
    };
    CHECK(got == expected);
  }
  SUBCASE("after backward: the gradient that reached every record and leaf") {
    loss.backward({.retain_graph = true});
    const auto got = lines(tg::autograd::format_tape(loss, {.values = false, .gradients = true}));
    // d exp(u)/du = e^1.5 = 4.48169 flows unchanged through add and sum, then times x.
    const std::vector<std::string> expected = {
        "leaf 0  [2] f64  grad [13.4451, -4.48169]",
        "leaf 1  [] f64  grad 4.48169",
        "#1  mul(leaf 0, const) -> [2] f64  grad [4.48169, 4.48169]",
        "#2  sum(#1) -> [] f64  grad 4.48169",
        "#3  add(#2, leaf 1) -> [] f64  grad 4.48169",
        "#4  exp(#3) -> [] f64  grad 1",
    };
    CHECK(got == expected);
  }
}

TEST_CASE("format_tape without inspection shows the structure only") {
  tg::Tensor a = tg::ones({2, 3}, {.requires_grad = true});
  const tg::Tensor y = tg::relu(tg::matmul(a, tg::ones({3, 1}))).mean();
  const std::vector<std::string> expected = {
      "leaf 0  [2, 3] f32  value [[1, 1, 1], [1, 1, 1]]",
      "#1  matmul(leaf 0, const) -> [2, 1] f32",
      "#2  relu(#1) -> [2, 1] f32",
      "#3  mean(#2) -> [] f32",
  };
  CHECK(lines(tg::autograd::format_tape(y)) == expected);
}

TEST_CASE("to_dot writes one node per leaf and record and one edge per input") {
  tg::Tensor w = tg::tensor({2.0}, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor y = tg::tanh(w * w);
  const std::vector<std::string> expected = {
      "digraph tape {",
      "  rankdir=LR;",
      "  node [fontname=\"monospace\"];",
      "  leaf0 [shape=ellipse, label=\"leaf 0\\n[1] f64\"];",
      "  r1 [shape=box, label=\"#1 mul\\n[1] f64\"];",
      "  leaf0 -> r1;",
      "  leaf0 -> r1;",
      "  r2 [shape=box, label=\"#2 tanh\\n[1] f64\"];",
      "  r1 -> r2;",
      "}",
  };
  CHECK(lines(tg::autograd::to_dot(y)) == expected);
}

TEST_CASE("a tensor with no history has an empty tape") {
  CHECK(tg::autograd::format_tape(tg::ones({2})).empty());
}
