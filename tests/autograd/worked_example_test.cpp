// The first worked example of gradient descent, by hand: J(θ) = (θ − 3)² from θ = 8, lr 0.1.
#include "support/testing.hpp"

TEST_CASE("gradient descent on (θ − 3)² from 8 with lr 0.1 gives 7, 6.2, 5.56") {
  tg::Tensor theta = tg::scalar(8.0, {.dtype = tg::f64, .requires_grad = true});
  const double lr = 0.1;
  // θ₁ = 8 − 0.1·2·(8 − 3) = 7;  θ₂ = 7 − 0.1·2·4 = 6.2;  θ₃ = 6.2 − 0.1·2·3.2 = 5.56
  const double expected[] = {7.0, 6.2, 5.56};
  for (double next : expected) {
    const tg::Tensor J = tg::pow(theta - 3.0, 2.0);
    J.backward();
    {
      tg::NoGradGuard no_grad;
      theta.copy_(theta - lr * theta.grad());
    }
    theta.zero_grad();
    CHECK(theta.item() == doctest::Approx(next).epsilon(1e-14));
  }
}
