// The worked example of Baydin et al., "Automatic differentiation in machine learning: a survey"
// (JMLR 2018), tables 2 and 3: f(x₁, x₂) = ln x₁ + x₁x₂ − sin x₂ at (2, 5) — the forward primal
// trace, the forward tangent trace (via jvp) and the reverse adjoint trace (read from the tape).
#include <fmt/format.h>

#include <cmath>
#include <tapegrad.hpp>

namespace {

// tapegrad has no sin, so the example adds it as a user would: a custom function whose backward
// is itself made of recorded functions (cos, then −sin), so jvp's double backward can use it.
tg::Tensor elementwise(const tg::Tensor& x, double (*fn)(double)) {
  tg::Tensor out = x.detach().clone();
  double* values = out.data<double>();
  for (int64_t i = 0; i < out.numel(); ++i) values[i] = fn(values[i]);
  return out;
}

struct Sin : tg::autograd::Function<Sin> {
  static constexpr const char* name = "sin";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x);
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs);
};

struct Cos : tg::autograd::Function<Cos> {
  static constexpr const char* name = "cos";
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
    ctx->save_for_backward({x});
    return elementwise(x, [](double v) { return std::cos(v); });
  }
  // d cos x / dx = −sin x
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    return {-(grad_outputs[0] * Sin::apply(ctx->get_saved_variables()[0]))};
  }
};

tg::Tensor Sin::forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x) {
  ctx->save_for_backward({x});
  return elementwise(x, [](double v) { return std::sin(v); });
}

// d sin x / dx = cos x
std::vector<tg::Tensor> Sin::backward(tg::autograd::AutogradContext* ctx,
                                      std::vector<tg::Tensor> grad_outputs) {
  return {grad_outputs[0] * Cos::apply(ctx->get_saved_variables()[0])};
}

// The intermediate variables v₁ … v₅ of f, one statement each, so that they are recorded in the
// order the paper lists them (see "evaluation order" below for why one expression would not be).
struct Trace {
  tg::Tensor v1, v2, v3, v4, v5;
};

Trace trace(const tg::Tensor& x1, const tg::Tensor& x2) {
  Trace t;
  t.v1 = tg::log(x1);
  t.v2 = x1 * x2;
  t.v3 = Sin::apply(x2);
  t.v4 = t.v1 + t.v2;
  t.v5 = t.v4 - t.v3;
  return t;
}

tg::Tensor input(double v, const char* name) {
  tg::Tensor t = tg::scalar(v, {.dtype = tg::f64, .requires_grad = true});
  t.set_name(name);
  return t;
}

}  // namespace

int main() {
  tg::autograd::TapeInspectionGuard inspect;
  const tg::Tensor x1 = input(2.0, "x1"), x2 = input(5.0, "x2");
  const Trace t = trace(x1, x2);
  const double v1 = t.v1.item(), v2 = t.v2.item(), v3 = t.v3.item(), v4 = t.v4.item(),
               v5 = t.v5.item();

  fmt::print("f(x₁, x₂) = ln x₁ + x₁x₂ − sin x₂ at (x₁, x₂) = (2, 5)\n\n");
  fmt::print("forward primal trace\n");
  fmt::print("  v₋₁ = x₁             = 2\n");
  fmt::print("  v₀  = x₂             = 5\n");
  fmt::print("  v₁  = ln v₋₁         = ln 2          = {:.3f}\n", v1);
  fmt::print("  v₂  = v₋₁ × v₀       = 2 × 5         = {:.3f}\n", v2);
  fmt::print("  v₃  = sin v₀         = sin 5         = {:.3f}\n", v3);
  fmt::print("  v₄  = v₁ + v₂        = {:.3f} + {:.3f} = {:.3f}\n", v1, v2, v4);
  fmt::print("  v₅  = v₄ − v₃        = {:.3f} + {:.3f} = {:.3f}\n", v4, -v3, v5);
  fmt::print("  y   = v₅             = {:.3f}\n\n", v5);

  // Forward mode: the tangents of all five variables at once, as one jvp of [v₁, …, v₅].
  const auto all_variables = [](const std::vector<tg::Tensor>& x) {
    const Trace s = trace(x[0], x[1]);
    return tg::cat({s.v1.reshape({1}), s.v2.reshape({1}), s.v3.reshape({1}), s.v4.reshape({1}),
                    s.v5.reshape({1})},
                   0);
  };
  const tg::Tensor one = tg::scalar(1.0, {.dtype = tg::f64}),
                   zero = tg::scalar(0.0, {.dtype = tg::f64});
  const std::vector<double> dot =
      tg::autograd::jvp(all_variables, {x1.detach(), x2.detach()}, {one, zero}).second.to_vector();
  fmt::print("forward tangent trace, ẋ₁ = 1, ẋ₂ = 0 (tg::autograd::jvp)\n");
  fmt::print("  v̇₋₁ = ẋ₁                     = 1\n");
  fmt::print("  v̇₀  = ẋ₂                     = 0\n");
  fmt::print("  v̇₁  = v̇₋₁ / v₋₁              = 1/2           = {:.3f}\n", dot[0]);
  fmt::print("  v̇₂  = v̇₋₁ × v₀ + v̇₀ × v₋₁    = 1 × 5 + 0 × 2 = {:.3f}\n", dot[1]);
  fmt::print("  v̇₃  = v̇₀ × cos v₀            = 0 × cos 5     = {:.3f}\n", dot[2]);
  fmt::print("  v̇₄  = v̇₁ + v̇₂                = {:.3f} + {:.3f} = {:.3f}\n", dot[0], dot[1], dot[3]);
  fmt::print("  v̇₅  = v̇₄ − v̇₃                = {:.3f} − {:.3f} = {:.3f}\n", dot[3], dot[2], dot[4]);
  fmt::print("  ẏ   = v̇₅                     = {:.3f}   (= ∂f/∂x₁)\n\n", dot[4]);

  // Reverse mode: one backward gives every adjoint v̄ᵢ = ∂y/∂vᵢ; the tape holds each of them.
  tg::Tensor y = t.v5;
  const std::vector<tg::Tensor> adjoints =
      tg::grad({y}, {t.v4, t.v3, t.v2, t.v1}, {}, false, /*retain_graph=*/true);
  const double bar4 = adjoints[0].item(), bar3 = adjoints[1].item(), bar2 = adjoints[2].item(),
               bar1 = adjoints[3].item();
  y.backward({.retain_graph = true});
  const double x1_value = x1.item(), x2_value = x2.item();
  const double bar0_from_sin = bar3 * std::cos(x2_value), bar_m1 = x1.grad().item(),
               bar0 = x2.grad().item();
  fmt::print("reverse adjoint trace (y.backward(); the tape below holds the same numbers)\n");
  fmt::print("  v̄₅  = ȳ                      = 1\n");
  fmt::print("  v̄₄  = v̄₅ ∂v₅/∂v₄ = v̄₅ × 1     = {:.3f}\n", bar4);
  fmt::print("  v̄₃  = v̄₅ ∂v₅/∂v₃ = v̄₅ × (−1)  = {:.3f}\n", bar3);
  fmt::print("  v̄₁  = v̄₄ ∂v₄/∂v₁ = v̄₄ × 1     = {:.3f}\n", bar1);
  fmt::print("  v̄₂  = v̄₄ ∂v₄/∂v₂ = v̄₄ × 1     = {:.3f}\n", bar2);
  fmt::print("  v̄₀  = v̄₃ ∂v₃/∂v₀ = v̄₃ × cos v₀ = {:.3f}\n", bar0_from_sin);
  fmt::print("  v̄₋₁ = v̄₂ ∂v₂/∂v₋₁ = v̄₂ × v₀    = {:.3f}\n", bar2 * x2_value);
  fmt::print("  v̄₀  = v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂ × v₋₁ = {:.3f}\n", bar0_from_sin + bar2 * x1_value);
  fmt::print("  v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = v̄₋₁ + v̄₁/v₋₁ = {:.3f}\n",
             bar2 * x2_value + bar1 / x1_value);
  fmt::print("  x̄₁  = v̄₋₁ = {:.4f}   x̄₂ = v̄₀ = {:.4f}   (x1.grad(), x2.grad())\n\n", bar_m1, bar0);

  for (auto [variable, name] :
       {std::pair{t.v1, "v1"}, {t.v2, "v2"}, {t.v3, "v3"}, {t.v4, "v4"}, {t.v5, "v5"}})
    variable.set_name(name);
  fmt::print(
      "the tape, v₁ … v₅ as records #1 … #5, with values, adjoints and local derivatives:\n{}\n",
      tg::autograd::format_tape(y, {.local_derivatives = true}));

  // Evaluation order: C++ does not fix the order in which the operands of + are evaluated, and
  // GCC evaluates the right one first, so pow is recorded before the product.
  const tg::Tensor a = input(1.5, "a"), b = input(2.0, "b");
  const tg::Tensor z = a * a + tg::pow(b, 3.0);
  fmt::print("evaluation order: the tape of z = a*a + pow(b, 3) as this compiler recorded it:\n{}",
             tg::autograd::format_tape(z, {.values = false, .gradients = false}));
}
