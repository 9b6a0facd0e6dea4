// Every op in autograd's ops headers, with each tensor it reads written in place after the
// forward: backward must throw naming the op and both versions, or give the original gradient.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tapegrad/autograd.hpp>
#include <tapegrad/autograd/loss.hpp>
#include <vector>

#include "../support/testing.hpp"

namespace {

using tg::Shape;
using tg::Tensor;
using Loss = tg::Reduction;

// One tensor an op reads: its values, the values an in-place write puts there after the forward,
// and whether it requires grad.
struct Input {
  std::string label;
  std::vector<double> values;
  Shape shape;
  std::vector<double> written;  // empty: 0.5·v + 0.1 elementwise
  tg::DType dtype = tg::f64;
  bool requires_grad = true;
};

using OpFunction = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// One row of the table: the declaration it covers (as the headers spell its parameter types),
// the record names an error may give, the inputs and the call.
struct Case {
  std::string key;
  std::string variant;  // tells rows of one declaration apart ("eval", "with weight", ...)
  std::vector<std::string> records;
  std::vector<Input> inputs;
  OpFunction call;
  bool differentiable = true;
};

// Inputs used across the table: positive (log, sqrt, pow), a second positive one, signed (relu,
// abs, clamp), and probabilities.
const std::vector<double> kA{0.7, 1.3, 0.4, 1.9, 0.9, 1.6};
const std::vector<double> kB{1.1, 0.6, 1.7, 0.8, 1.4, 0.5};
const std::vector<double> kSigned{-0.8, 0.6, -0.3, 1.2, -1.5, 0.4};

Input a(std::vector<double> values = kA, Shape shape = {2, 3}) {
  return {"a", std::move(values), std::move(shape), {}, tg::f64, true};
}
Input b(std::vector<double> values = kB, Shape shape = {2, 3}) {
  return {"b", std::move(values), std::move(shape), {}, tg::f64, true};
}
Input named(std::string label, std::vector<double> values, Shape shape, bool requires_grad = true) {
  return {std::move(label), std::move(values), std::move(shape), {}, tg::f64, requires_grad};
}
Input constant(std::string label, std::vector<double> values, Shape shape,
               std::vector<double> written) {
  return {std::move(label),   std::move(values), std::move(shape),
          std::move(written), tg::f64,           false};
}
Input indices(std::string label, std::vector<double> values, Shape shape,
              std::vector<double> written) {
  return {std::move(label),   std::move(values), std::move(shape),
          std::move(written), tg::i64,           false};
}

OpFunction one(std::function<Tensor(const std::vector<Tensor>&)> f) {
  return [f = std::move(f)](const std::vector<Tensor>& x) { return std::vector<Tensor>{f(x)}; };
}

Case unary(std::string key, std::string record, std::function<Tensor(const Tensor&)> f,
           std::vector<double> values = kA) {
  return {std::move(key),
          "",
          {std::move(record)},
          {a(std::move(values))},
          one([f = std::move(f)](const std::vector<Tensor>& x) { return f(x[0]); })};
}

Case binary(std::string key, std::string record,
            std::function<Tensor(const Tensor&, const Tensor&)> f) {
  return {std::move(key),
          "",
          {std::move(record)},
          {a(), b()},
          one([f = std::move(f)](const std::vector<Tensor>& x) { return f(x[0], x[1]); })};
}

// A comparison: its 0/1 result has no gradient, so there is nothing to check but that it runs.
Case comparison(std::string key, std::function<Tensor(const Tensor&, const Tensor&)> f) {
  Case c = binary(std::move(key), "", std::move(f));
  c.differentiable = false;
  return c;
}

std::vector<Case> table() {
  using V = std::vector<Tensor>;
  std::vector<Case> t;
  auto add = [&](Case c) { t.push_back(std::move(c)); };
  // Arithmetic.
  add(binary("add(Tensor,Tensor)", "add", [](auto& x, auto& y) { return tg::add(x, y); }));
  add(binary("sub(Tensor,Tensor)", "sub", [](auto& x, auto& y) { return tg::sub(x, y); }));
  add(binary("mul(Tensor,Tensor)", "mul", [](auto& x, auto& y) { return tg::mul(x, y); }));
  add(binary("div(Tensor,Tensor)", "div", [](auto& x, auto& y) { return tg::div(x, y); }));
  add(unary("neg(Tensor)", "neg", [](auto& x) { return tg::neg(x); }));
  add(binary("operator+(Tensor,Tensor)", "add", [](auto& x, auto& y) { return x + y; }));
  add(binary("operator-(Tensor,Tensor)", "sub", [](auto& x, auto& y) { return x - y; }));
  add(binary("operator*(Tensor,Tensor)", "mul", [](auto& x, auto& y) { return x * y; }));
  add(binary("operator/(Tensor,Tensor)", "div", [](auto& x, auto& y) { return x / y; }));
  add(unary("operator+(Tensor,double)", "add", [](auto& x) { return x + 0.5; }));
  add(unary("operator-(Tensor,double)", "sub", [](auto& x) { return x - 0.5; }));
  add(unary("operator*(Tensor,double)", "mul", [](auto& x) { return x * 2.5; }));
  add(unary("operator/(Tensor,double)", "div", [](auto& x) { return x / 2.5; }));
  add(unary("operator+(double,Tensor)", "add", [](auto& x) { return 0.5 + x; }));
  add(unary("operator-(double,Tensor)", "sub", [](auto& x) { return 0.5 - x; }));
  add(unary("operator*(double,Tensor)", "mul", [](auto& x) { return 2.5 * x; }));
  add(unary("operator/(double,Tensor)", "div", [](auto& x) { return 2.5 / x; }));
  add(unary("operator-(Tensor)", "neg", [](auto& x) { return -x; }));
  add(unary("operator+(Tensor,I)", "add", [](auto& x) { return x + 2; }));
  add(unary("operator-(Tensor,I)", "sub", [](auto& x) { return x - 2; }));
  add(unary("operator*(Tensor,I)", "mul", [](auto& x) { return x * 3; }));
  add(unary("operator/(Tensor,I)", "div", [](auto& x) { return x / 3; }));
  add(unary("operator+(I,Tensor)", "add", [](auto& x) { return 2 + x; }));
  add(unary("operator-(I,Tensor)", "sub", [](auto& x) { return 2 - x; }));
  add(unary("operator*(I,Tensor)", "mul", [](auto& x) { return 3 * x; }));
  add(unary("operator/(I,Tensor)", "div", [](auto& x) { return 3 / x; }));
  // Elementwise functions.
  add(unary("pow(Tensor,double)", "pow", [](auto& x) { return tg::pow(x, 2.5); }));
  add(unary("exp(Tensor)", "exp", [](auto& x) { return tg::exp(x); }));
  add(unary("log(Tensor)", "log", [](auto& x) { return tg::log(x); }));
  add(unary("sqrt(Tensor)", "sqrt", [](auto& x) { return tg::sqrt(x); }));
  add(unary(
      "abs(Tensor)", "abs", [](auto& x) { return tg::abs(x); }, kSigned));
  add(unary(
      "tanh(Tensor)", "tanh", [](auto& x) { return tg::tanh(x); }, kSigned));
  add(unary(
      "sigmoid(Tensor)", "sigmoid", [](auto& x) { return tg::sigmoid(x); }, kSigned));
  add(unary(
      "relu(Tensor)", "relu", [](auto& x) { return tg::relu(x); }, kSigned));
  add(unary(
      "leaky_relu(Tensor,double)", "leaky_relu", [](auto& x) { return tg::leaky_relu(x, 0.1); },
      kSigned));
  add(unary(
      "clamp(Tensor,double,double)", "clamp", [](auto& x) { return tg::clamp(x, -0.5, 0.5); },
      kSigned));
  add(binary("maximum(Tensor,Tensor)", "maximum",
             [](auto& x, auto& y) { return tg::maximum(x, y); }));
  add(binary("minimum(Tensor,Tensor)", "minimum",
             [](auto& x, auto& y) { return tg::minimum(x, y); }));
  add(unary("sin(Tensor)", "sin", [](auto& x) { return tg::sin(x); }));
  add(unary("cos(Tensor)", "cos", [](auto& x) { return tg::cos(x); }));
  add(unary("log1p(Tensor)", "log1p", [](auto& x) { return tg::log1p(x); }));
  add(unary("expm1(Tensor)", "expm1", [](auto& x) { return tg::expm1(x); }));
  add(unary(
      "square(Tensor)", "square", [](auto& x) { return tg::square(x); }, kSigned));
  add(unary(
      "softplus(Tensor,double,double)", "softplus",
      [](auto& x) { return tg::softplus(x, 1.5, 20.0); }, kSigned));
  add(unary(
      "gelu(Tensor)", "gelu", [](auto& x) { return tg::gelu(x); }, kSigned));
  add(unary(
      "silu(Tensor)", "silu", [](auto& x) { return tg::silu(x); }, kSigned));
  add(unary(
      "elu(Tensor,double)", "elu", [](auto& x) { return tg::elu(x, 1.0); }, kSigned));
  add({"where(Tensor,Tensor,Tensor)",
       "",
       {"where"},
       {constant("cond", {1, 0, 1, 0, 0, 1}, {2, 3}, {0, 1, 0, 1, 1, 0}), a(), b()},
       one([](const V& x) { return tg::where(x[0], x[1], x[2]); })});
  // Comparisons (never recorded).
  add(comparison("eq(Tensor,Tensor)", [](auto& x, auto& y) { return tg::eq(x, y); }));
  add(comparison("ne(Tensor,Tensor)", [](auto& x, auto& y) { return tg::ne(x, y); }));
  add(comparison("lt(Tensor,Tensor)", [](auto& x, auto& y) { return tg::lt(x, y); }));
  add(comparison("le(Tensor,Tensor)", [](auto& x, auto& y) { return tg::le(x, y); }));
  add(comparison("gt(Tensor,Tensor)", [](auto& x, auto& y) { return tg::gt(x, y); }));
  add(comparison("ge(Tensor,Tensor)", [](auto& x, auto& y) { return tg::ge(x, y); }));
  add(comparison("eq(Tensor,double)", [](auto& x, auto&) { return tg::eq(x, 0.7); }));
  add(comparison("ne(Tensor,double)", [](auto& x, auto&) { return tg::ne(x, 0.7); }));
  add(comparison("lt(Tensor,double)", [](auto& x, auto&) { return tg::lt(x, 0.7); }));
  add(comparison("le(Tensor,double)", [](auto& x, auto&) { return tg::le(x, 0.7); }));
  add(comparison("gt(Tensor,double)", [](auto& x, auto&) { return tg::gt(x, 0.7); }));
  add(comparison("ge(Tensor,double)", [](auto& x, auto&) { return tg::ge(x, 0.7); }));
  add(comparison("operator==(Tensor,Tensor)", [](auto& x, auto& y) { return x == y; }));
  add(comparison("operator!=(Tensor,Tensor)", [](auto& x, auto& y) { return x != y; }));
  add(comparison("operator<(Tensor,Tensor)", [](auto& x, auto& y) { return x < y; }));
  add(comparison("operator<=(Tensor,Tensor)", [](auto& x, auto& y) { return x <= y; }));
  add(comparison("operator>(Tensor,Tensor)", [](auto& x, auto& y) { return x > y; }));
  add(comparison("operator>=(Tensor,Tensor)", [](auto& x, auto& y) { return x >= y; }));
  add(comparison("operator==(Tensor,double)", [](auto& x, auto&) { return x == 0.7; }));
  add(comparison("operator!=(Tensor,double)", [](auto& x, auto&) { return x != 0.7; }));
  add(comparison("operator<(Tensor,double)", [](auto& x, auto&) { return x < 0.7; }));
  add(comparison("operator<=(Tensor,double)", [](auto& x, auto&) { return x <= 0.7; }));
  add(comparison("operator>(Tensor,double)", [](auto& x, auto&) { return x > 0.7; }));
  add(comparison("operator>=(Tensor,double)", [](auto& x, auto&) { return x >= 0.7; }));
  add(comparison("operator==(double,Tensor)", [](auto& x, auto&) { return 0.7 == x; }));
  add(comparison("operator!=(double,Tensor)", [](auto& x, auto&) { return 0.7 != x; }));
  add(comparison("operator<(double,Tensor)", [](auto& x, auto&) { return 0.7 < x; }));
  add(comparison("operator<=(double,Tensor)", [](auto& x, auto&) { return 0.7 <= x; }));
  add(comparison("operator>(double,Tensor)", [](auto& x, auto&) { return 0.7 > x; }));
  add(comparison("operator>=(double,Tensor)", [](auto& x, auto&) { return 0.7 >= x; }));
  // Reductions.
  add(unary("sum(Tensor)", "sum", [](auto& x) { return tg::sum(x); }));
  add(unary("sum(Tensor,int64_t,bool)", "sum", [](auto& x) { return tg::sum(x, 1, true); }));
  add(unary("mean(Tensor)", "mean", [](auto& x) { return tg::mean(x); }));
  add(unary("mean(Tensor,int64_t,bool)", "mean", [](auto& x) { return tg::mean(x, 0); }));
  add(unary("max(Tensor)", "max", [](auto& x) { return tg::max(x); }));
  add(unary("max(Tensor,int64_t,bool)", "max", [](auto& x) { return tg::max(x, 1); }));
  Case argmax = unary("argmax(Tensor,int64_t,bool)", "", [](auto& x) { return tg::argmax(x, 1); });
  argmax.differentiable = false;
  add(argmax);
  add(unary("min(Tensor)", "min", [](auto& x) { return tg::min(x); }));
  add(unary("min(Tensor,int64_t,bool)", "min", [](auto& x) { return tg::min(x, 1); }));
  Case argmin = unary("argmin(Tensor,int64_t,bool)", "", [](auto& x) { return tg::argmin(x, 1); });
  argmin.differentiable = false;
  add(argmin);
  add(unary("prod(Tensor)", "prod", [](auto& x) { return tg::prod(x); }));
  add(unary("var(Tensor)", "var", [](auto& x) { return tg::var(x); }));
  add(unary("var(Tensor,int64_t,bool,bool)", "var", [](auto& x) { return tg::var(x, 1, false); }));
  // std is sqrt(var): its output is sqrt's, saved by sqrt.
  Case std_all = unary("std(Tensor)", "std", [](auto& x) { return tg::std(x); });
  std_all.records.push_back("sqrt");
  add(std_all);
  Case std_dim =
      unary("std(Tensor,int64_t,bool,bool)", "std", [](auto& x) { return tg::std(x, 0); });
  std_dim.records.push_back("sqrt");
  add(std_dim);
  add(unary(
      "norm(Tensor,double)", "norm", [](auto& x) { return tg::norm(x, 3.0); }, kSigned));
  add(unary("cumsum(Tensor,int64_t)", "cumsum", [](auto& x) { return tg::cumsum(x, 1); }));
  // Shapes.
  add(unary("reshape(Tensor,Shape)", "reshape", [](auto& x) { return tg::reshape(x, {3, 2}); }));
  add(unary("transpose(Tensor,int64_t,int64_t)", "transpose",
            [](auto& x) { return tg::transpose(x, 0, 1); }));
  add(unary("unsqueeze(Tensor,int64_t)", "unsqueeze", [](auto& x) { return tg::unsqueeze(x, 1); }));
  add({"squeeze(Tensor,int64_t)", "", {"squeeze"}, {a(kA, {2, 1, 3})}, one([](const V& x) {
         return tg::squeeze(x[0], 1);
       })});
  add(binary("cat(std::vector<Tensor>,int64_t)", "cat", [](auto& x, auto& y) {
    return tg::cat({x, y}, 1);
  }));
  add(unary("narrow(Tensor,int64_t,int64_t,int64_t)", "narrow",
            [](auto& x) { return tg::narrow(x, 1, 1, 2); }));
  add(binary("stack(std::vector<Tensor>,int64_t)", "stack", [](auto& x, auto& y) {
    return tg::stack({x, y}, 1);
  }));
  add(unary("select(Tensor,int64_t,int64_t)", "select",
            [](auto& x) { return tg::select(x, 1, -1); }));
  add(unary("slice(Tensor,int64_t,int64_t,int64_t,int64_t)", "slice",
            [](auto& x) { return tg::slice(x, 1, 0, 3, 2); }));
  add(unary("flatten(Tensor,int64_t,int64_t)", "flatten", [](auto& x) { return tg::flatten(x); }));
  add(unary("permute(Tensor,Shape)", "permute", [](auto& x) { return tg::permute(x, {1, 0}); }));
  add({"expand(Tensor,Shape)", "", {"expand"}, {a({0.7, 1.3, 0.4}, {1, 3})}, one([](const V& x) {
         return tg::expand(x[0], {2, 3});
       })});
  add(unary("diagonal(Tensor,int64_t,int64_t,int64_t)", "diagonal",
            [](auto& x) { return tg::diagonal(x, 1); }));
  add({"unbind(Tensor,int64_t)", "", {"unbind", "select"}, {a()}, [](const V& x) {
         return tg::unbind(x[0], 1);
       }});
  add(unary("tril(Tensor,int64_t)", "tril", [](auto& x) { return tg::tril(x); }));
  add(unary("triu(Tensor,int64_t)", "triu", [](auto& x) { return tg::triu(x, 1); }));
  add({"diag(Tensor,int64_t)",
       "vector to matrix",
       {"diag"},
       {a({0.7, 1.3, 0.4}, {3})},
       one([](const V& x) { return tg::diag(x[0], 1); })});
  add({"diag(Tensor,int64_t)", "matrix to vector", {"diag", "diagonal"}, {a()}, one([](const V& x) {
         return tg::diag(x[0]);
       })});
  add(unary("diag_embed(Tensor)", "diag_embed", [](auto& x) { return tg::diag_embed(x); }));
  add({"masked_fill(Tensor,Tensor,double)",
       "",
       {"masked_fill"},
       {a(), constant("mask", {1, 0, 0, 1, 0, 1}, {2, 3}, {0, 1, 1, 0, 1, 0})},
       one([](const V& x) { return tg::masked_fill(x[0], x[1], -2.0); })});
  Case triangle = {"tril_indices(int64_t,int64_t,int64_t)", "", {}, {}, one([](const V&) {
                     return tg::tril_indices(3, 4, 1);
                   })};
  triangle.differentiable = false;
  add(triangle);
  add({"split(Tensor,int64_t,int64_t)", "", {"split", "narrow", "slice"}, {a()}, [](const V& x) {
         return tg::split(x[0], 2, 1);
       }});
  add({"chunk(Tensor,int64_t,int64_t)",
       "",
       {"chunk", "split", "narrow", "slice"},
       {a()},
       [](const V& x) { return tg::chunk(x[0], 2, 1); }});
  add({"index_select(Tensor,int64_t,Tensor)",
       "",
       {"index_select"},
       {a(), indices("index", {2, 0}, {2}, {1, 1})},
       one([](const V& x) { return tg::index_select(x[0], 1, x[1]); })});
  add({"gather(Tensor,int64_t,Tensor)",
       "",
       {"gather"},
       {a(), indices("index", {0, 2, 1, 1}, {2, 2}, {2, 2, 0, 0})},
       one([](const V& x) { return tg::gather(x[0], 1, x[1]); })});
  add({"scatter_add(Tensor,int64_t,Tensor,Tensor)",
       "",
       {"scatter_add"},
       {a(), indices("index", {0, 2, 1, 1}, {2, 2}, {2, 2, 0, 0}),
        named("source", {0.3, -0.2, 0.5, 0.9}, {2, 2})},
       one([](const V& x) { return tg::scatter_add(x[0], 1, x[1], x[2]); })});
  add({"broadcast_to(Tensor,Shape)",
       "",
       {"broadcast_to", "expand"},
       {a({0.7, 1.3, 0.4}, {1, 3})},
       one([](const V& x) {
         return tg::broadcast_to(x[0], {2, 3});
       })});
  add(unary("sum_to(Tensor,Shape)", "sum_to", [](auto& x) { return tg::sum_to(x, {1, 3}); }));
  // Linear algebra.
  add({"matmul(Tensor,Tensor)", "", {"matmul", "mm"}, {a(), b(kB, {3, 2})}, one([](const V& x) {
         return tg::matmul(x[0], x[1]);
       })});
  for (const char* key : {"linear(Tensor,Tensor,Tensor)", "linear_relu(Tensor,Tensor,Tensor)"}) {
    const bool relu = std::string(key).starts_with("linear_relu");
    add({key,
         "",
         {relu ? "linear_relu" : "linear"},
         {named("x", kSigned, {2, 3}), named("weight", {0.5, -0.4, 0.3, -0.2, 0.6, 0.1}, {2, 3}),
          named("bias", {0.05, -0.1}, {2})},
         one([relu](const V& x) {
           return relu ? tg::linear_relu(x[0], x[1], x[2]) : tg::linear(x[0], x[1], x[2]);
         })});
  }
  // Softmax family.
  add(unary("softmax(Tensor,int64_t)", "softmax", [](auto& x) { return tg::softmax(x, 1); }));
  add(unary("log_softmax(Tensor,int64_t)", "log_softmax",
            [](auto& x) { return tg::log_softmax(x, 1); }));
  add(unary("logsumexp(Tensor,int64_t,bool)", "logsumexp",
            [](auto& x) { return tg::logsumexp(x, 1); }));
  // Normalisation.
  add({"layer_norm(Tensor,Shape,Tensor,Tensor,double)",
       "",
       {"layer_norm"},
       {named("input", kSigned, {2, 3}), named("weight", {0.9, 1.2, -0.7}, {3}),
        named("bias", {0.1, -0.2, 0.3}, {3})},
       one([](const V& x) { return tg::layer_norm(x[0], {3}, x[1], x[2]); })});
  const std::vector<double> batch{-0.8, 0.6, -0.3, 1.2, -1.5, 0.4};
  for (const bool training : {true, false}) {
    add({"batch_norm(Tensor,Tensor,Tensor,Tensor,Tensor,bool,double,double)",
         training ? "train" : "eval",
         {"batch_norm"},
         {named("input", batch, {3, 2}), constant("running_mean", {0.2, -0.1}, {2}, {0.5, 0.3}),
          constant("running_var", {1.5, 0.8}, {2}, {0.6, 2.0}), named("weight", {0.9, -1.3}, {2}),
          named("bias", {0.1, 0.2}, {2})},
         one([training](const V& x) {
           return tg::batch_norm(x[0], x[1], x[2], x[3], x[4], training);
         })});
  }
  // Fused losses.
  const std::vector<double> logits{0.2, -1.0, 0.5, 1.1, 0.9, 0.3, -0.4, 0.0, -0.6, 1.4, 0.8, -0.2};
  add({"cross_entropy(Tensor,Tensor,CrossEntropyOptions)",
       "weight, smoothing",
       {"cross_entropy"},
       {named("logits", logits, {3, 4}), indices("target", {0, 2, 3}, {3}, {1, 1, 0}),
        constant("weight", {0.5, 1.5, 1.0, 2.0}, {4}, {2.0, 0.25, 1.0, 0.5})},
       one([](const V& x) {
         return tg::cross_entropy(
             x[0], x[1], {.weight = x[2], .reduction = Loss::mean, .label_smoothing = 0.1});
       })});
  add({"cross_entropy(Tensor,Tensor,Reduction)",
       "plain",
       {"cross_entropy"},
       {named("logits", logits, {3, 4}), indices("target", {0, 2, 3}, {3}, {1, 1, 0})},
       one([](const V& x) { return tg::cross_entropy(x[0], x[1], Loss::sum); })});
  add({"nll_loss(Tensor,Tensor,NLLLossOptions)",
       "weight",
       {"nll_loss"},
       {named("log_probs", logits, {3, 4}), indices("target", {0, 2, 3}, {3}, {1, 1, 0}),
        constant("weight", {0.5, 1.5, 1.0, 2.0}, {4}, {2.0, 0.25, 1.0, 0.5})},
       one([](const V& x) {
         return tg::nll_loss(x[0], x[1], {.weight = x[2], .reduction = Loss::mean});
       })});
  add({"nll_loss(Tensor,Tensor,Reduction)",
       "plain",
       {"nll_loss"},
       {named("log_probs", logits, {3, 4}), indices("target", {0, 2, 3}, {3}, {1, 1, 0})},
       one([](const V& x) { return tg::nll_loss(x[0], x[1], Loss::sum); })});
  add(unary("reduce(Tensor,Reduction)", "mean",
            [](auto& x) { return tg::reduce(x, tg::Reduction::mean); }));
  add({"mse_loss(Tensor,Tensor,Reduction)",
       "",
       {"mse_loss"},
       {named("input", {0.3, -0.6, 1.8, -0.1}, {4}), named("target", {1.0, 0.5, 2.0, -1.0}, {4})},
       one([](const V& x) { return tg::mse_loss(x[0], x[1], Loss::mean); })});
  add({"binary_cross_entropy(Tensor,Tensor,Reduction)",
       "",
       {"binary_cross_entropy"},
       {named("probs", {0.3, 0.6, 0.8, 0.1}, {4}),
        constant("target", {1, 0, 1, 0}, {4}, {0, 1, 0, 1})},
       one([](const V& x) { return tg::binary_cross_entropy(x[0], x[1], Loss::none); })});
  add({"binary_cross_entropy_with_logits(Tensor,Tensor,Reduction)",
       "",
       {"binary_cross_entropy_with_logits"},
       {named("logits", {0.3, -0.6, 1.8, -0.1}, {4}),
        constant("target", {1, 0, 1, 0}, {4}, {0, 1, 0, 1})},
       one([](const V& x) {
         return tg::binary_cross_entropy_with_logits(x[0], x[1], Loss::mean);
       })});
  return t;
}

// The declarations of every public function in autograd's ops headers, keyed by name and
// parameter types ("sum(Tensor,int64_t,bool)"), read from the headers themselves so that a new
// op without a row fails the test.
std::set<std::string> declared_ops() {
  std::set<std::string> keys;
  for (const char* header : {"ops.hpp", "loss.hpp"}) {
    std::ifstream file(std::string(TG_SOURCE_DIR) + "/autograd/include/tapegrad/autograd/" +
                       header);
    REQUIRE_MESSAGE(file.good(), header);
    std::stringstream buffer;
    buffer << file.rdbuf();
    const std::string text = std::regex_replace(buffer.str(), std::regex("//[^\n]*"), "");
    const std::regex declaration(
        R"((?:^|[\s;}>])(?:Tensor|std::vector<Tensor>)\s+(operator\S+?|\w+)\s*\(([^)]*)\)\s*[;{])");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), declaration);
         it != std::sregex_iterator(); ++it) {
      std::string key = (*it)[1].str() + "(";
      std::stringstream params((*it)[2].str());
      bool first = true;
      for (std::string param; std::getline(params, param, ',');) {
        param = param.substr(0, param.find('='));
        param = std::regex_replace(param, std::regex(R"(const\s+|&)"), "");
        param = std::regex_replace(param, std::regex(R"(^\s+|\s+$)"), "");
        if (param.empty()) continue;
        const size_t space = param.rfind(' ');
        key += (first ? "" : ",") + (space == std::string::npos ? param : param.substr(0, space));
        first = false;
      }
      keys.insert(key + ")");
    }
  }
  return keys;
}

enum class Outcome { threw, original, wrong, bad_error, refused, not_differentiable };

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::threw:
      return "threw";
    case Outcome::original:
      return "original gradient";
    case Outcome::wrong:
      return "WRONG";
    case Outcome::bad_error:
      return "WRONG ERROR";
    case Outcome::refused:
      return "write refused";
    case Outcome::not_differentiable:
      return "n/a (no gradient)";
  }
  return "?";
}

// Which tensor is written after the forward.
struct Target {
  enum Kind { input, intermediate_input, output } kind;
  size_t index;
};

Tensor make(const Input& in, bool requires_grad) {
  return tg::tensor(in.values, in.shape, {.dtype = in.dtype, .requires_grad = requires_grad});
}

std::vector<double> written_values(const Input& in, const std::vector<double>& values) {
  if (!in.written.empty()) return in.written;
  std::vector<double> out;
  for (double v : values) out.push_back(0.5 * v + 0.1);
  return out;
}

// Gradient weights for an output: distinct, so that a wrong permutation shows.
Tensor weights_for(const Tensor& out) {
  std::vector<double> w;
  for (int64_t i = 0; i < out.numel(); ++i) w.push_back(std::sin(1.0 + static_cast<double>(i)));
  return tg::tensor(w, out.shape(), {.dtype = out.dtype()});
}

struct Run {
  Outcome outcome;
  std::string detail;
};

// Runs the forward (with input `grad_mask[k]` requiring grad), writes `target` in place under
// NoGradGuard when `target` is given, and runs backward.
Run run(const Case& c, const std::vector<bool>& grad_mask, const Target* target,
        std::vector<std::vector<double>>* gradients) {
  std::vector<Tensor> leaves, args;
  for (size_t k = 0; k < c.inputs.size(); ++k) {
    const bool rg = grad_mask[k];
    leaves.push_back(make(c.inputs[k], rg));
    // An intermediate input: the same values computed from the leaf, so that writing it is a
    // write into a computed tensor rather than into a leaf.
    const bool as_intermediate =
        target != nullptr && target->kind == Target::intermediate_input && target->index == k;
    args.push_back(as_intermediate ? leaves.back() * 1.0 : leaves.back());
  }
  std::vector<Tensor> outputs = c.call(args);
  if (!c.differentiable) return {Outcome::not_differentiable, ""};
  std::vector<Tensor> grad_outputs;
  std::vector<Tensor> recorded;
  for (const Tensor& out : outputs)
    if (out.requires_grad()) {
      recorded.push_back(out);
      grad_outputs.push_back(weights_for(out));
    }
  std::vector<Tensor> wanted;
  for (size_t k = 0; k < leaves.size(); ++k)
    if (grad_mask[k]) wanted.push_back(leaves[k]);
  uint64_t before = 0, after = 0;
  if (target != nullptr) {
    Tensor written = target->kind == Target::output ? outputs[target->index] : args[target->index];
    const std::vector<double> values = written.to_vector();
    const std::vector<double> replacement = target->kind == Target::output
                                                ? written_values(Input{}, values)
                                                : written_values(c.inputs[target->index], values);
    before = written.version();
    try {
      tg::NoGradGuard no_grad;
      written.copy_(tg::tensor(replacement, written.shape(), {.dtype = written.dtype()}));
    } catch (const tg::Error& error) {
      return {Outcome::refused, error.what()};
    }
    after = written.version();
  }
  std::vector<Tensor> grads;
  try {
    grads = tg::grad(recorded, wanted, grad_outputs);
  } catch (const tg::Error& error) {
    const std::string message = error.what();
    bool names_op = false;
    for (const std::string& record : c.records)
      names_op =
          names_op || tg::testing::contains(message, std::string(1, '\'').append(record) + '\'');
    const bool names_versions =
        tg::testing::contains(message,
                              std::string("now at version ").append(std::to_string(after))) &&
        tg::testing::contains(
            message,
            std::string("at version ").append(std::to_string(before)).append(" when saved"));
    return {names_op && names_versions && target != nullptr ? Outcome::threw : Outcome::bad_error,
            message};
  } catch (const std::exception& error) {
    return {Outcome::bad_error, error.what()};
  }
  gradients->clear();
  for (const Tensor& g : grads)
    gradients->push_back(g.defined() ? g.to_vector() : std::vector<double>{});
  return {Outcome::original, ""};
}

std::string target_name(const Case& c, const Target& target) {
  if (target.kind == Target::output) return "output " + std::to_string(target.index);
  const std::string& label = c.inputs[target.index].label;
  return target.kind == Target::intermediate_input ? label + " (computed)" : label;
}

}  // namespace

TEST_CASE("every op in the ops headers has a row in the mutation-after-forward table") {
  std::set<std::string> covered;
  for (const Case& c : table()) covered.insert(c.key);
  const std::set<std::string> declared = declared_ops();
  CHECK(declared.size() >= 120);  // the parser found the headers' declarations
  for (const std::string& key : declared) {
    CAPTURE(key);
    CHECK_MESSAGE(covered.count(key) == 1, "no row for " << key);
  }
  for (const std::string& key : covered) {
    CAPTURE(key);
    CHECK_MESSAGE(declared.count(key) == 1, "row for an op not in the headers: " << key);
  }
}

TEST_CASE("a tensor written in place after the forward never gives a silently wrong gradient") {
  const bool print = std::getenv("TG_MUTATION_TABLE") != nullptr;
  if (print) std::cout << "| op | written | requires grad | outcome |\n|---|---|---|---|\n";
  int rows = 0;
  for (const Case& c : table()) {
    // Every floating input requires grad; then, for ops with several, only the first does, so
    // the inputs that do not require grad are written too.
    std::vector<std::vector<bool>> masks;
    std::vector<bool> all;
    for (const Input& in : c.inputs) all.push_back(in.requires_grad);
    masks.push_back(all);
    std::vector<bool> first_only(all.size(), false);
    for (size_t k = 0; k < all.size(); ++k)
      if (all[k]) {
        first_only[k] = true;
        break;
      }
    if (first_only != all) masks.push_back(first_only);
    for (const std::vector<bool>& mask : masks) {
      std::vector<std::vector<double>> reference;
      const Run clean = run(c, mask, nullptr, &reference);
      REQUIRE_MESSAGE(
          (clean.outcome == Outcome::original || clean.outcome == Outcome::not_differentiable),
          c.key << ": " << clean.detail);
      std::vector<Target> targets;
      for (size_t k = 0; k < c.inputs.size(); ++k) {
        targets.push_back({Target::input, k});
        if (mask[k]) targets.push_back({Target::intermediate_input, k});
      }
      targets.push_back({Target::output, 0});
      std::string grads_label;
      for (size_t k = 0; k < mask.size(); ++k)
        if (mask[k]) grads_label += (grads_label.empty() ? "" : ", ") + c.inputs[k].label;
      for (const Target& target : targets) {
        std::vector<std::vector<double>> gradients;
        Run result = run(c, mask, &target, &gradients);
        if (result.outcome == Outcome::original) {
          bool same = gradients.size() == reference.size();
          for (size_t k = 0; same && k < gradients.size(); ++k)
            same = tg::testing::all_close(gradients[k], reference[k], 1e-12);
          if (!same) result.outcome = Outcome::wrong;
        }
        const std::string op = c.key + (c.variant.empty() ? "" : " [" + c.variant + "]");
        const std::string written = target_name(c, target);
        if (print)
          std::cout << "| " << op << " | " << written << " | " << grads_label << " | "
                    << outcome_name(result.outcome) << " |\n";
        ++rows;
        CAPTURE(op);
        CAPTURE(written);
        CAPTURE(grads_label);
        CAPTURE(result.detail);
        CHECK(result.outcome != Outcome::wrong);
        CHECK(result.outcome != Outcome::bad_error);
      }
    }
  }
  CHECK(rows > 300);
}
