// Critical points and the second-derivative test: finds where ∇f = 0 by Newton's method
// (tg::linalg::solve on tg::autograd::hessian), tells minima from saddles by the Hessian's
// eigenvalues (tg::linalg::eigvalsh), then shows gradient descent stalling at a saddle and what
// gets away from it.
//
//   saddle_points    the whole lesson (the test suite runs it and checks the numbers)
#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <string>
#include <tapegrad.hpp>
#include <vector>

namespace {

using Surface = std::function<tg::Tensor(const tg::Tensor&)>;

constexpr tg::TensorOptions kF64{.dtype = tg::f64};

tg::Tensor point(double x, double y) {
  return tg::tensor({x, y}, {.dtype = tg::f64, .requires_grad = true});
}

// f(x, y) = x³ − 3x + y²: ∇f = (3x² − 3, 2y), H = [6x 0; 0 2]; a minimum at (1, 0), a saddle at
// (−1, 0), and f → −∞ as x → −∞.
tg::Tensor cubic(const tg::Tensor& p) {
  const tg::Tensor x = tg::select(p, 0, 0), y = tg::select(p, 0, 1);
  return tg::pow(x, 3.0) - 3.0 * x + y * y;
}

// The monkey saddle g(x, y) = x³ − 3xy² = r³ cos 3θ: ∇g = (3x² − 3y², −6xy) vanishes only at 0,
// where the whole Hessian [6x −6y; −6y −6x] is 0, so the second-derivative test says nothing.
tg::Tensor monkey(const tg::Tensor& p) {
  const tg::Tensor x = tg::select(p, 0, 0), y = tg::select(p, 0, 1);
  return tg::pow(x, 3.0) - 3.0 * x * y * y;
}

tg::Tensor gradient(const Surface& f, const tg::Tensor& p) { return tg::grad({f(p)}, {p})[0]; }

double length(const tg::Tensor& v) { return tg::norm(v).item(); }

// A printed value with no "-0.0000": what rounds to zero at 4 decimals prints as 0.
double shown(double v) { return std::abs(v) < 5e-5 ? 0.0 : v; }

std::string pair_text(const tg::Tensor& v) {
  const std::vector<double> xs = v.to_vector();
  return fmt::format("({:.4f}, {:.4f})", shown(xs[0]), shown(xs[1]));
}

// The second-derivative test: both eigenvalues of H positive, a minimum; both negative, a
// maximum; of both signs, a saddle; one of them zero (|λ| below `tolerance`), inconclusive.
std::string classify(const tg::Tensor& eigenvalues, double tolerance = 1e-4) {
  const std::vector<double> lambda = eigenvalues.to_vector();
  if (std::abs(lambda[0]) < tolerance || std::abs(lambda[1]) < tolerance)
    return "degenerate: the test is inconclusive";
  if (lambda[0] > 0) return "minimum";
  if (lambda[1] < 0) return "maximum";
  return "saddle";
}

// Newton's method on ∇f = 0: p ← p − H⁻¹∇f. It converges to whichever critical point is near,
// minimum or not.
tg::Tensor newton_critical_point(const Surface& f, tg::Tensor p, int& steps) {
  for (steps = 0; steps < 100 && length(gradient(f, p)) > 1e-12; ++steps) {
    const tg::Tensor step = tg::linalg::solve(tg::autograd::hessian(f, p), gradient(f, p));
    p = (p - step).detach().set_requires_grad();
  }
  return p;
}

void find_and_classify(const char* title, const Surface& f,
                       const std::vector<std::pair<double, double>>& starts) {
  fmt::print("{}\n", title);
  std::vector<std::vector<double>> found;
  for (const auto& [x, y] : starts) {
    int steps = 0;
    const tg::Tensor p = newton_critical_point(f, point(x, y), steps);
    const std::vector<double> at = p.to_vector();
    bool seen = false;
    for (const auto& q : found) seen = seen || std::hypot(q[0] - at[0], q[1] - at[1]) < 1e-4;
    if (seen) continue;
    found.push_back(at);
    const tg::Tensor eigenvalues = tg::linalg::eigvalsh(tg::autograd::hessian(f, p));
    fmt::print("  Newton from ({:g}, {:g}) in {:2} steps: {}  eigenvalues {}  {}\n", x, y, steps,
               pair_text(p), pair_text(eigenvalues), classify(eigenvalues));
  }
}

struct Run {
  tg::Tensor p;
  int steps;
  int near_saddle;  // steps spent within 0.1 of the saddle (−1, 0)
};

double distance_to_saddle(const tg::Tensor& p) {
  const std::vector<double> v = p.to_vector();
  return std::hypot(v[0] + 1, v[1]);
}

// Runs `step` from `start` until |∇f| < 1e-8 or `max_steps`.
Run run(const Surface& f, tg::Tensor p, int max_steps,
        const std::function<tg::Tensor(const tg::Tensor&)>& step) {
  Run result{p, 0, 0};
  for (; result.steps < max_steps && length(gradient(f, result.p)) > 1e-8; ++result.steps) {
    if (distance_to_saddle(result.p) < 0.1) ++result.near_saddle;
    result.p = (result.p - step(result.p)).detach().set_requires_grad();
  }
  return result;
}

// The end of a run, with the test applied there.
std::string verdict(const Surface& f, const Run& r) {
  const tg::Tensor eigenvalues = tg::linalg::eigvalsh(tg::autograd::hessian(f, r.p));
  return fmt::format("{} after {} step{}, |∇f| = {:.0e}, eigenvalues {}: a {}", pair_text(r.p),
                     r.steps, r.steps == 1 ? "" : "s", length(gradient(f, r.p)),
                     pair_text(eigenvalues), classify(eigenvalues));
}

void escaping_the_saddle() {
  const Surface f = cubic;
  const double lr = 0.1;
  const auto descent = [&](const tg::Tensor& p) { return lr * gradient(f, p); };
  const auto newton = [&](const tg::Tensor& p) {
    return tg::linalg::solve(tg::autograd::hessian(f, p), gradient(f, p));
  };
  // Saddle-free Newton (Dauphin et al., 2014): H⁻¹ with each eigenvalue replaced by its absolute
  // value, V |Λ|⁻¹ Vᵀ ∇f from eigh, so a direction of negative curvature is descended, not climbed.
  const auto saddle_free = [&](const tg::Tensor& p) {
    const auto [lambda, V] = tg::linalg::eigh(tg::autograd::hessian(f, p));
    const tg::Tensor Vt = tg::transpose(V, 0, 1);
    return tg::matmul(V, tg::matmul(Vt, gradient(f, p)) / tg::abs(lambda));
  };

  fmt::print("\nGradient descent (lr {}) near the saddle (-1, 0) of x³ − 3x + y²:\n", lr);
  // On the line x = −1, ∂f/∂x = 0: descent only ever moves y, down into the saddle.
  const Run stalled = run(f, point(-1, 1), 1000, descent);
  fmt::print("  from (-1, 1):        stalls at {}\n", verdict(f, stalled));
  // A millionth off that line, the unstable direction (λ = −6) grows by 1 + 6·lr per step.
  const double x0 = -1 + 1e-6;
  const Run perturbed = run(f, point(x0, 1), 1000, descent);
  fmt::print("  from (-1 + 1e-6, 1): lingers {} steps near the saddle, escapes to {}\n",
             perturbed.near_saddle, verdict(f, perturbed));
  fmt::print("Newton's method from the perturbed start (-1 + 1e-6, 1):\n");
  const Run attracted = run(f, point(x0, 1), 100, newton);
  fmt::print("  plain Newton H⁻¹∇f:         lands on the saddle: {}\n", verdict(f, attracted));
  const Run escaped = run(f, point(x0, 1), 100, saddle_free);
  fmt::print("  saddle-free Newton |H|⁻¹∇f: lingers {} steps near the saddle, escapes to {}\n",
             escaped.near_saddle, verdict(f, escaped));
}

// Around the monkey saddle, g's sign alternates six times: three valleys and three ridges.
void monkey_signs() {
  fmt::print("  g on the circle of radius 0.1 around it, every 60°:");
  for (int k = 0; k < 6; ++k) {
    const double angle = k * std::numbers::pi / 3;
    const double value =
        monkey(tg::tensor({0.1 * std::cos(angle), 0.1 * std::sin(angle)}, kF64)).item();
    fmt::print(" {:+.4f}", value);
  }
  fmt::print("\n  signs alternate: three downhill valleys meet there, so it is a saddle\n");
}

}  // namespace

int main() {
  find_and_classify("Critical points of f(x, y) = x³ − 3x + y²:", cubic,
                    {{2, 1}, {-2, 1}, {0.5, -0.5}, {-0.5, 0.5}});
  find_and_classify("Critical points of the monkey saddle g(x, y) = x³ − 3xy²:", monkey,
                    {{1, 0.5}, {-0.3, 0.8}});
  monkey_signs();
  escaping_the_saddle();
  return 0;
}
