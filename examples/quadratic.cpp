// Gradient descent on J(θ) = (θ − 3)², the first worked example of most texts: the table of
// θ, the gradient and the next θ, then a learning rate that oscillates and one that diverges,
// and the same descent as the three-line loop of PyTorch tutorials, beside its closed form.
#include <fmt/format.h>

#include <cmath>
#include <tapegrad.hpp>

namespace {

// Runs `steps` updates θ ← θ − lr·dJ/dθ from θ = 8, printing one row per step.
double descend(double lr, int steps, bool print_rows) {
  tg::Tensor theta = tg::scalar(8.0, {.dtype = tg::f64, .requires_grad = true});
  if (print_rows) fmt::print("{:>4}  {:>10}  {:>10}  {:>10}\n", "step", "θ", "dJ/dθ", "next θ");
  for (int step = 1; step <= steps; ++step) {
    tg::Tensor J = tg::pow(theta - 3.0, 2.0);
    J.backward();  // dJ/dθ = 2(θ − 3)
    const double before = theta.item(), gradient = theta.grad().item();
    {
      tg::NoGradGuard no_grad;  // the update itself is not part of the model
      theta.copy_(theta - lr * theta.grad());
    }
    theta.zero_grad();
    if (print_rows) {
      fmt::print("{:>4}  {:>10.4f}  {:>10.4f}  {:>10.4f}", step, before, gradient, theta.item());
      if (step == 3 && lr == 0.1)
        fmt::print("   (a widely copied table prints 5.76 here; 6.2 − 0.1·6.4 = 5.56)");
      fmt::print("\n");
    }
  }
  return theta.item();
}

}  // namespace

int main() {
  fmt::print("J(θ) = (θ − 3)², θ₀ = 8, learning rate 0.1\n");
  const double settled = descend(0.1, 60, /*print_rows=*/false);
  descend(0.1, 10, /*print_rows=*/true);
  fmt::print("after 60 steps θ = {:.6f} (the minimum is θ = 3)\n\n", settled);

  fmt::print("learning rate 1.0: each step jumps to the mirror point, θ oscillates\n");
  descend(1.0, 4, /*print_rows=*/true);
  fmt::print("\nlearning rate 1.1: each step overshoots further, θ diverges\n");
  const double diverged = descend(1.1, 6, /*print_rows=*/true);
  fmt::print("|θ − 3| grew from 5 to {:.4f}: a rate above 1 (= 2/J'') makes descent unstable\n",
             std::abs(diverged - 3.0));

  // The loop as PyTorch tutorials write it. Each step maps w − 3 to (w − 3)(1 − 2·lr) = 0.98·(w −
  // 3), so from w = 1 (w − 3 = −2) after n steps w = 3 − 2·0.98ⁿ.
  fmt::print("\nthe PyTorch-style loop: w = 1, SGD(lr 0.01), 100 steps on (w − 3)²\n");
  tg::Tensor w = tg::scalar(1.0, {.dtype = tg::f64, .requires_grad = true});
  tg::optim::SGD optimizer({w}, {.lr = 0.01});
  for (int step = 0; step < 100; ++step) {
    optimizer.zero_grad();
    tg::pow(w - 3.0, 2.0).backward();
    optimizer.step();
  }
  fmt::print("after 100 steps w = {:.4f}   closed form 3 − 2·0.98¹⁰⁰ = {:.4f}\n", w.item(),
             3.0 - 2.0 * std::pow(0.98, 100));
}
