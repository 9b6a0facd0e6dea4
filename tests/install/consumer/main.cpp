// Trains one step through the installed package; exits non-zero if the gradient is wrong.
#include <cmath>
#include <cstdio>
#include <tapegrad.hpp>

int main() {
  tg::Tensor w = tg::tensor({1.0, -2.0}, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor loss = (w * w).sum();  // d/dw = 2w
  loss.backward();
  const std::vector<double> g = w.grad().to_vector();
  const bool ok = std::abs(g[0] - 2.0) < 1e-12 && std::abs(g[1] + 4.0) < 1e-12;
  std::printf("consumer: gradient [%g, %g] %s\n", g[0], g[1], ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
