// Seeing the tape: format_tape and to_dot on a small fixed graph, line by line.
#include <doctest/doctest.h>

#include <tapegrad/autograd.hpp>

#include "support/testing.hpp"

using tg::testing::lines;

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

namespace {

// micrograd's lecture graph: L = (a·b + c)·f at a = 2, b = −3, c = 10, f = −2.
struct LectureGraph {
  tg::Tensor a = named(2.0, "a"), b = named(-3.0, "b"), c = named(10.0, "c"), f = named(-2.0, "f");
  tg::Tensor e, d, L;

  static tg::Tensor named(double value, const char* name) {
    tg::Tensor t = tg::scalar(value, {.dtype = tg::f64, .requires_grad = true});
    t.set_name(name);
    return t;
  }
  LectureGraph() {
    e = (a * b).set_name("e");
    d = (e + c).set_name("d");
    L = (d * f).set_name("L");
  }
};

}  // namespace

TEST_CASE("set_name labels a tensor and name() reads it back") {
  tg::Tensor x = tg::scalar(1.0);
  CHECK(x.name().empty());
  CHECK(x.set_name("x").name() == "x");
  CHECK(x.detach().name().empty());  // a name labels one tensor, not its data
}

TEST_CASE("format_tape of a named graph shows the names, values, gradients and local derivatives") {
  tg::autograd::TapeInspectionGuard inspect;
  LectureGraph g;
  SUBCASE("before backward") {
    const std::vector<std::string> expected = {
        "leaf a  [] f64  value 2",
        "leaf b  [] f64  value -3",
        "leaf c  [] f64  value 10",
        "leaf f  [] f64  value -2",
        "#1  e = mul(leaf a, leaf b) -> [] f64  value -6",
        "#2  d = add(#1, leaf c) -> [] f64  value 4",
        "#3  L = mul(#2, leaf f) -> [] f64  value -8",
    };
    CHECK(lines(tg::autograd::format_tape(g.L)) == expected);
  }
  SUBCASE("after backward: dL/dd = f = −2, dL/df = d = 4, dL/da = −2·b = 6, dL/db = −2·a = −4") {
    g.L.backward({.retain_graph = true});
    const std::vector<std::string> expected = {
        "leaf a  [] f64  value 2  grad 6",
        "leaf b  [] f64  value -3  grad -4",
        "leaf c  [] f64  value 10  grad -2",
        "leaf f  [] f64  value -2  grad 4",
        "#1  e = mul(leaf a, leaf b) -> [] f64  value -6  grad -2",
        "      to leaf a: local derivative -3, passes -2 · -3 = 6",
        "      to leaf b: local derivative 2, passes -2 · 2 = -4",
        "#2  d = add(#1, leaf c) -> [] f64  value 4  grad -2",
        "      to #1: local derivative 1, passes -2 · 1 = -2",
        "      to leaf c: local derivative 1, passes -2 · 1 = -2",
        "#3  L = mul(#2, leaf f) -> [] f64  value -8  grad 1",
        "      to #2: local derivative -2, passes 1 · -2 = -2",
        "      to leaf f: local derivative 4, passes 1 · 4 = 4",
    };
    CHECK(lines(tg::autograd::format_tape(g.L, {.local_derivatives = true})) == expected);
  }
  SUBCASE("after a backward that freed the graph the records still print, without local lines") {
    g.L.backward();
    const auto got = lines(tg::autograd::format_tape(g.L, {.local_derivatives = true}));
    REQUIRE(got.size() == 7);
    CHECK(got[6] == "#3  L = mul(#2, leaf f) -> [] f64  value -8  grad 1");
  }
}

TEST_CASE("format_tape shows constants, exponents and scalar arguments") {
  tg::Tensor x = tg::scalar(2.0, {.dtype = tg::f64, .requires_grad = true});
  x.set_name("x");
  const tg::Tensor y = 1.0 - tg::pow(x, 3.0) * 0.5 / 2.0;
  const tg::Tensor z = tg::leaky_relu(tg::clamp(y, -1.5, 1.0), 0.01);
  const std::vector<std::string> expected = {
      "leaf x  [] f64  value 2",
      "#1  pow(leaf x, 3) -> [] f64",
      "#2  mul(#1, 0.5) -> [] f64",
      "#3  div(#2, 2) -> [] f64",
      "#4  sub(1, #3) -> [] f64",
      "#5  clamp(#4, -1.5, 1) -> [] f64",
      "#6  leaky_relu(#5, 0.01) -> [] f64",
  };
  CHECK(lines(tg::autograd::format_tape(z)) == expected);
}

TEST_CASE("to_dot draws a named graph as the tape or in micrograd's style") {
  tg::autograd::TapeInspectionGuard inspect;
  LectureGraph g;
  g.L.backward({.retain_graph = true});
  SUBCASE("micrograd: a { name | data | grad } record per value and a node per op") {
    const std::vector<std::string> expected = {
        "digraph tape {",
        "  rankdir=LR;",
        "  node [fontname=\"monospace\"];",
        "  leaf0 [shape=record, label=\"{ a | data 2.0000 | grad 6.0000 }\"];",
        "  leaf1 [shape=record, label=\"{ b | data -3.0000 | grad -4.0000 }\"];",
        "  leaf2 [shape=record, label=\"{ c | data 10.0000 | grad -2.0000 }\"];",
        "  leaf3 [shape=record, label=\"{ f | data -2.0000 | grad 4.0000 }\"];",
        "  r1 [shape=record, label=\"{ e | data -6.0000 | grad -2.0000 }\"];",
        "  r1_op [shape=ellipse, label=\"mul\"];",
        "  r1_op -> r1;",
        "  leaf0 -> r1_op;",
        "  leaf1 -> r1_op;",
        "  r2 [shape=record, label=\"{ d | data 4.0000 | grad -2.0000 }\"];",
        "  r2_op [shape=ellipse, label=\"add\"];",
        "  r2_op -> r2;",
        "  r1 -> r2_op;",
        "  leaf2 -> r2_op;",
        "  r3 [shape=record, label=\"{ L | data -8.0000 | grad 1.0000 }\"];",
        "  r3_op [shape=ellipse, label=\"mul\"];",
        "  r3_op -> r3;",
        "  r2 -> r3_op;",
        "  leaf3 -> r3_op;",
        "}",
    };
    CHECK(lines(tg::autograd::to_dot(g.L, {.style = tg::autograd::DotStyle::micrograd})) ==
          expected);
  }
  SUBCASE("tape style, with names, no values and no gradients") {
    const std::vector<std::string> expected = {
        "digraph tape {",
        "  rankdir=LR;",
        "  node [fontname=\"monospace\"];",
        "  leaf0 [shape=ellipse, label=\"leaf a\\n[] f64\"];",
        "  leaf1 [shape=ellipse, label=\"leaf b\\n[] f64\"];",
        "  leaf2 [shape=ellipse, label=\"leaf c\\n[] f64\"];",
        "  leaf3 [shape=ellipse, label=\"leaf f\\n[] f64\"];",
        "  r1 [shape=box, label=\"#1 e = mul\\n[] f64\"];",
        "  leaf0 -> r1;",
        "  leaf1 -> r1;",
        "  r2 [shape=box, label=\"#2 d = add\\n[] f64\"];",
        "  r1 -> r2;",
        "  leaf2 -> r2;",
        "  r3 [shape=box, label=\"#3 L = mul\\n[] f64\"];",
        "  r2 -> r3;",
        "  leaf3 -> r3;",
        "}",
    };
    CHECK(lines(tg::autograd::to_dot(g.L, {.values = false, .gradients = false})) == expected);
  }
}

TEST_CASE("to_dot escapes quotes and record separators in names and shows constants on ops") {
  tg::Tensor x = tg::scalar(3.0, {.dtype = tg::f64, .requires_grad = true});
  x.set_name("x|\"y\"");
  const tg::Tensor y = tg::pow(x, 2.0);
  const auto got = lines(tg::autograd::to_dot(y, {.style = tg::autograd::DotStyle::micrograd}));
  REQUIRE(got.size() == 9);
  CHECK(got[3] == "  leaf0 [shape=record, label=\"{ x\\|\\\"y\\\" | data 3.0000 }\"];");
  CHECK(got[4] == "  r1 [shape=record, label=\"{ #1 | data [] f64 }\"];");
  CHECK(got[5] == "  r1_op [shape=ellipse, label=\"pow(leaf x|\\\"y\\\", 2)\"];");
}
