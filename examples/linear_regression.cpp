// Linear regression by gradient descent: y = 4 + 3x + noise fitted by full-batch descent, checked
// against the normal equation, then the same points in larger units to show why features are
// scaled.
//
//   linear_regression           the whole lesson
//   linear_regression --quick   a shorter scaling table (the test suite runs this)
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tapegrad.hpp>
#include <vector>

namespace {

constexpr tg::TensorOptions kF64{.dtype = tg::f64};

// The classic data set: x ~ 2·U(0, 1), y = 4 + 3x + ε with ε ~ N(0, 1); x and y are [m, 1].
struct Points {
  tg::Tensor x;
  tg::Tensor y;
};

Points make_points(int64_t m) {
  tg::Tensor x = 2.0 * tg::rand({m, 1}, kF64);
  tg::Tensor noise = tg::randn({m, 1}, kF64);
  return {x, 4.0 + 3.0 * x + noise};
}

// X = [1, x]: with a column of ones, θ₀ is the intercept and the model is simply ŷ = Xθ.
tg::Tensor design_matrix(const tg::Tensor& x) {
  return tg::cat({tg::ones({x.shape()[0], 1}, kF64), x}, 1);
}

struct Line {
  double intercept;
  double slope;
};

// The normal equation θ = (XᵀX)⁻¹Xᵀy, solved by tg::linalg::lstsq: QR of X, which gives the same
// θ without forming XᵀX (whose condition number is the square of X's). f64, no gradient.
Line normal_equation(const tg::Tensor& x, const tg::Tensor& y) {
  const std::vector<double> theta = tg::linalg::lstsq(design_matrix(x), y).to_vector();
  return {theta[0], theta[1]};
}

// The loss L(θ) = ½·mean((Xθ − y)²) is a quadratic bowl whose Hessian is the constant XᵀX/m
// = [[1, x̄], [x̄, mean(x²)]]. Its eigenvalues are the bowl's curvatures along its two axes:
// gradient descent is stable only for lr < 2/λmax, and the slow axis shrinks by |1 − lr·λmin|
// per step, so the ratio κ = λmax/λmin (the condition number) sets the number of steps.
struct Curvature {
  double lambda_max;
  double lambda_min;
  double condition() const { return lambda_max / lambda_min; }
};

Curvature curvature_of(const tg::Tensor& x) {
  const tg::Tensor X = design_matrix(x);
  const double m = static_cast<double>(x.shape()[0]);
  // eigvalsh: the eigenvalues of the symmetric XᵀX/m, ascending.
  const std::vector<double> lambda =
      tg::linalg::eigvalsh(tg::matmul(tg::transpose(X, 0, 1), X) / m).to_vector();
  return {lambda[1], lambda[0]};
}

double half_mse(const tg::Tensor& X, const tg::Tensor& theta, const tg::Tensor& y) {
  return 0.5 * tg::pow(tg::matmul(X, theta) - y, 2.0).mean().item();
}

struct Descent {
  tg::Tensor theta;    // [2, 1]
  int64_t iterations;  // updates made
  bool converged;      // the loss came within the tolerance of the minimum
  bool diverged;       // the loss overflowed or became NaN
  double loss;         // at the final θ
};

// Full-batch gradient descent from θ = 0: θ ← θ − lr·∇L with ∇L = Xᵀ(Xθ − y)/m, the gradient that
// backward() finds through matmul, pow and mean. With `min_loss` given, stops as soon as
// L(θ) − min_loss < tolerance; the count is the number of updates it took to get there.
Descent gradient_descent(const tg::Tensor& X, const tg::Tensor& y, double lr,
                         int64_t max_iterations, bool print_progress = false,
                         double min_loss = std::numeric_limits<double>::quiet_NaN(),
                         double tolerance = 0) {
  tg::Tensor theta = tg::zeros({2, 1}, {.dtype = tg::f64, .requires_grad = true});
  tg::optim::SGD optimizer({theta}, {.lr = lr});
  if (print_progress)
    fmt::print("  {:>9}  {:>8}  {:>8}  {:>10}\n", "iteration", "θ₀", "θ₁", "loss");
  for (int64_t iteration = 0;; ++iteration) {
    const tg::Tensor loss = 0.5 * tg::pow(tg::matmul(X, theta) - y, 2.0).mean();
    const double value = loss.item();
    const bool report = iteration == 0 || iteration == 1 || iteration == 10 || iteration == 100 ||
                        iteration == max_iterations;
    if (print_progress && report) {
      const std::vector<double> t = theta.to_vector();
      fmt::print("  {:>9}  {:>8.4f}  {:>8.4f}  {:>10.6f}\n", iteration, t[0], t[1], value);
    }
    if (!std::isfinite(value) || value > 1e30) return {theta, iteration, false, true, value};
    if (value - min_loss < tolerance) return {theta, iteration, true, false, value};
    if (iteration == max_iterations) return {theta, iteration, false, false, value};
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
}

// Part 1: the worked example of the classic texts.
void fit_by_gradient_descent(const Points& points) {
  fmt::print("Part 1. y = 4 + 3x + noise: 100 points, x ~ 2·U(0,1), noise ~ N(0,1), seed 42\n");
  fmt::print("full-batch gradient descent on L(θ) = ½·mean((Xθ − y)²), X = [1, x], lr 0.1:\n");
  const tg::Tensor X = design_matrix(points.x);
  const Descent descent = gradient_descent(X, points.y, 0.1, 1000, /*print_progress=*/true);
  const std::vector<double> theta = descent.theta.to_vector();
  const Line exact = normal_equation(points.x, points.y);
  fmt::print("gradient descent, 1000 iterations:  θ = ({:.6f}, {:.6f})\n", theta[0], theta[1]);
  fmt::print("normal equation (XᵀX)⁻¹Xᵀy:         θ = ({:.6f}, {:.6f})\n", exact.intercept,
             exact.slope);
  const double gap =
      std::max(std::abs(theta[0] - exact.intercept), std::abs(theta[1] - exact.slope));
  fmt::print("max |θ_gd − θ_normal| = {:.1e}  (the noise, not the method, keeps θ from (4, 3))\n\n",
             gap);
}

// One row of the scaling table: descent at the best fixed rate 2/(λmax + λmin), which makes the
// fast and the slow axis shrink equally fast, ρ = (κ − 1)/(κ + 1) per step.
void scaling_row(std::string_view name, const tg::Tensor& feature, const tg::Tensor& y,
                 double min_loss, double tolerance, int64_t max_iterations) {
  const Curvature curvature = curvature_of(feature);
  const double largest_stable_lr = 2.0 / curvature.lambda_max;
  const double lr = 2.0 / (curvature.lambda_max + curvature.lambda_min);
  const tg::Tensor X = design_matrix(feature);
  const Descent descent = gradient_descent(X, y, lr, max_iterations, false, min_loss, tolerance);
  fmt::print("  {:<26} {:>10.4g} {:>12.4g} {:>12.4g}  ", name, curvature.condition(),
             largest_stable_lr, lr);
  if (descent.converged) {
    fmt::print("{:>10}\n", descent.iterations);
  } else {
    // The loss gap shrinks by ρ² per step: count the steps it would take from where it stopped.
    const double kappa = curvature.condition();
    const double rho = (kappa - 1) / (kappa + 1);
    const double more = std::log((descent.loss - min_loss) / tolerance) / (-2 * std::log(rho));
    fmt::print("did not converge in {} (needs ≈ {:.2g})\n", max_iterations,
               static_cast<double>(max_iterations) + more);
  }
}

// Part 2: the same fit with the feature in larger units. Nothing about the data changes, only the
// shape of the bowl: its long axis grows with the units, so the largest stable lr shrinks while the
// slow axis stays as slow as it was, and the number of steps grows like κ.
void why_features_are_scaled(const Points& points, bool quick) {
  const double tolerance = 1e-8;
  const Line exact = normal_equation(points.x, points.y);
  const double min_loss = half_mse(
      design_matrix(points.x), tg::tensor({exact.intercept, exact.slope}, {2, 1}, kF64), points.y);
  fmt::print("Part 2. Why features are scaled: the same points, x in larger units (x·s)\n");
  fmt::print("each run: gradient descent from θ = 0 at lr = 2/(λmax + λmin), the best fixed lr,\n");
  fmt::print("until L(θ) − L(θ_normal) < {:.0e}; λ are the eigenvalues of the Hessian XᵀX/m\n",
             tolerance);
  fmt::print("  {:<26} {:>10} {:>12} {:>12}  {:>10}\n", "feature", "κ=λmax/λmin", "2/λmax",
             "lr used", "iterations");
  const std::vector<double> scales =
      quick ? std::vector<double>{1, 10} : std::vector<double>{1, 10, 100, 1000};
  for (const double scale : scales) {
    const std::string name = fmt::format("x ∈ [0, {:g}]  (s = {:g})", 2 * scale, scale);
    scaling_row(name, points.x * scale, points.y, min_loss, tolerance, quick ? 20000 : 500000);
  }

  // Standardising makes the column mean 0 and variance 1, so XᵀX/m = I: a round bowl, κ = 1.
  // Any unit gives the same standardised column, so one row covers them all.
  tg::data::StandardScaler scaler;
  const tg::Tensor standardised = scaler.fit_transform(points.x * 1000.0);
  scaling_row("standardised (any s)", standardised, points.y, min_loss, tolerance, 100000);
  const Descent slow = gradient_descent(design_matrix(standardised), points.y, 0.1, 100000, false,
                                        min_loss, tolerance);
  fmt::print("  standardised at lr 0.1: {} iterations (still no need to tune lr to the units)\n",
             slow.iterations);

  // Map θ back to the original units: ŷ = θ₀ + θ₁(x·s − μ)/σ, so slope = θ₁·s/σ.
  const Descent fitted =
      gradient_descent(design_matrix(standardised), points.y, 1.0, 10, false, min_loss, tolerance);
  const std::vector<double> theta = fitted.theta.to_vector();
  const double mu = scaler.mean().item(), sigma = scaler.scale().item();
  fmt::print(
      "  standardised θ = ({:.4f}, {:.4f}) → in x's units θ = ({:.4f}, {:.4f}), the same line\n",
      theta[0], theta[1], theta[0] - theta[1] * mu / sigma, theta[1] * 1000.0 / sigma);

  // Just above 2/λmax every step overshoots along the long axis by more than it corrects.
  const tg::Tensor big = points.x * 100.0;
  const double too_large = 1.05 * 2.0 / curvature_of(big).lambda_max;
  const Descent blown = gradient_descent(design_matrix(big), points.y, too_large, 2000);
  fmt::print("  x ∈ [0, 200] at lr = 1.05·2/λmax = {:.4g}: {} after {} steps (loss {:.3g})\n\n",
             too_large, blown.diverged ? "diverged" : "still finite", blown.iterations, blown.loss);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
  tg::manual_seed(42);
  const Points points = make_points(100);
  fit_by_gradient_descent(points);
  why_features_are_scaled(points, quick);
}
