// Optimizers side by side on the three classic landscapes (a narrow canyon, the Rosenbrock valley,
// a saddle point): iterations to converge per method, trajectories over contour plots, and the
// learning-rate schedules.
//
//   optimizers                        the whole lesson; plots go to ./optimizer_plots
//   optimizers --quick                the canyon only, fewer iterations (the test suite runs this)
//   optimizers --plot-dir DIR         write the trajectories, a gnuplot script and (with gnuplot
//                                     on PATH) one SVG per landscape into DIR
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tapegrad.hpp>
#include <vector>

namespace {

constexpr tg::TensorOptions kF64{.dtype = tg::f64};
using Point = std::array<double, 2>;

// Learning rates per method for one landscape: each a value the classic texts would pick, not a
// per-method search for the best, so the table shows how the methods behave out of the box.
struct Rates {
  double gd;
  double momentum;  // heavy-ball and Nesterov, both with μ = 0.9
  double adagrad;
  double rmsprop;
  double adam;
};

// A landscape f(w₁, w₂): the function on the tape, the same function for gnuplot's contours, where
// to start, where the minima are, and which stationary points are not minima (a trap for Newton).
struct Problem {
  std::string name;
  std::string formula;
  std::function<tg::Tensor(const tg::Tensor&)> f;  // p = [w₁, w₂] → 0-D loss
  std::string gnuplot_f;                           // f(x, y) in gnuplot's syntax
  std::string contour_levels;                      // gnuplot's "cntrparam levels discrete" list
  std::array<double, 4> plot_box;                  // x from, x to, y from, y to
  Point start;
  std::vector<Point> minima;
  std::vector<Point> saddles;
  Rates rates;
};

// The coordinates of p as 0-D tensors, so the formulas read as the maths does.
tg::Tensor coordinate(const tg::Tensor& p, int64_t i) { return tg::narrow(p, 0, i, 1).sum(); }

// ½(a·w₁² + b·w₂²) with a ≫ b: the curvature across the canyon is a = 100, along it b = 1. Plain
// gradient descent must keep lr < 2/a to stay stable across, which makes it crawl along (rate
// 1 − lr·b per step): the number of steps grows with κ = a/b.
Problem canyon() {
  return {
      .name = "canyon",
      .formula = "½(100·w₁² + w₂²)",
      .f =
          [](const tg::Tensor& p) {
            return 0.5 * (100.0 * tg::pow(coordinate(p, 0), 2.0) + tg::pow(coordinate(p, 1), 2.0));
          },
      .gnuplot_f = "0.5*(100*x**2 + y**2)",
      .contour_levels = "0.01,0.05,0.15,0.3,0.5,0.75,1,2,4",
      .plot_box = {-0.4, 0.4, -0.2, 1.1},
      .start = {0.3, 1.0},
      .minima = {{0.0, 0.0}},
      .saddles = {},
      .rates = {.gd = 0.018, .momentum = 0.01, .adagrad = 0.5, .rmsprop = 0.01, .adam = 0.1},
  };
}

// Rosenbrock's banana: (1 − x)² + 100(y − x²)². The valley floor y = x² is easy to reach and
// hard to follow: it curves, and its floor falls only gently towards the minimum at (1, 1).
Problem rosenbrock() {
  return {
      .name = "rosenbrock",
      .formula = "(1 − x)² + 100(y − x²)²",
      .f =
          [](const tg::Tensor& p) {
            const tg::Tensor x = coordinate(p, 0), y = coordinate(p, 1);
            return tg::pow(1.0 - x, 2.0) + 100.0 * tg::pow(y - tg::pow(x, 2.0), 2.0);
          },
      .gnuplot_f = "(1-x)**2 + 100*(y-x**2)**2",
      .contour_levels = "0.3,1,3,10,30,100,300,1000",
      .plot_box = {-1.6, 1.6, -0.6, 1.8},
      .start = {-1.2, 1.0},
      .minima = {{1.0, 1.0}},
      .saddles = {},
      .rates = {.gd = 1e-3, .momentum = 1e-3, .adagrad = 0.5, .rmsprop = 1e-3, .adam = 0.02},
  };
}

// x² − y² + y⁴/4: a saddle at the origin (a minimum along x, a maximum along y) between two
// minima at (0, ±√2), f = −1. Starting a hair off the saddle, the gradient along y is nearly 0,
// so plain descent lingers; Newton's method, which seeks any point where ∇f = 0, jumps onto it.
Problem saddle() {
  return {
      .name = "saddle",
      .formula = "x² − y² + y⁴/4",
      .f =
          [](const tg::Tensor& p) {
            const tg::Tensor x = coordinate(p, 0), y = coordinate(p, 1);
            return tg::pow(x, 2.0) - tg::pow(y, 2.0) + 0.25 * tg::pow(y, 4.0);
          },
      .gnuplot_f = "x**2 - y**2 + y**4/4",
      .contour_levels = "-0.9,-0.6,-0.3,0,0.3,0.6,1,1.5,2",
      .plot_box = {-1.2, 1.2, -0.4, 2.0},
      .start = {1.0, 1e-3},
      .minima = {{0.0, std::sqrt(2.0)}, {0.0, -std::sqrt(2.0)}},
      .saddles = {{0.0, 0.0}},
      .rates = {.gd = 0.1, .momentum = 0.05, .adagrad = 0.5, .rmsprop = 0.01, .adam = 0.05},
  };
}

double distance(const Point& a, const Point& b) { return std::hypot(a[0] - b[0], a[1] - b[1]); }

Point point_of(const tg::Tensor& p) {
  const std::vector<double> v = p.to_vector();
  return {v[0], v[1]};
}

// One iteration of a method: updates p in place.
using Iteration = std::function<void()>;

// Wraps a first-order optimizer: zero the gradient, evaluate f, backpropagate, step.
Iteration first_order(std::shared_ptr<tg::optim::Optimizer> optimizer, tg::Tensor p,
                      const Problem& problem) {
  return [optimizer, p, f = problem.f] {
    optimizer->zero_grad();
    f(p).backward();
    optimizer->step();
  };
}

// L-BFGS builds a curvature model from the last gradients; with max_iter = 1 each step() is one
// iteration, so it is counted like the others. The closure re-evaluates f for the line search.
Iteration lbfgs(tg::Tensor p, const Problem& problem) {
  auto optimizer = std::make_shared<tg::optim::LBFGS>(
      std::vector<tg::Tensor>{p},
      tg::optim::LBFGSOptions{.lr = 1, .max_iter = 1, .line_search_fn = "strong_wolfe"});
  return [optimizer, p, f = problem.f] {
    optimizer->step([&] {
      optimizer->zero_grad();
      tg::Tensor loss = f(p);
      loss.backward();
      return loss;
    });
  };
}

// One Newton step p ← p − H⁻¹∇f: the Hessian from tg::autograd::hessian (which differentiates
// the gradient recorded with create_graph), then the linear solve H·step = ∇f by
// tg::linalg::solve (LU on LAPACK). Exact on a quadratic.
void newton_step(tg::Tensor& p, const std::function<tg::Tensor(const tg::Tensor&)>& f) {
  const tg::Tensor H = tg::autograd::hessian(f, p);
  const tg::Tensor gradient = tg::grad({f(p)}, {p})[0];
  tg::NoGradGuard no_grad;
  p.copy_(p - tg::linalg::solve(H, gradient));
}

Iteration newton(tg::Tensor p, const Problem& problem) {
  return [p, f = problem.f]() mutable { newton_step(p, f); };
}

struct Method {
  std::string name;
  std::string settings;
  std::string colour;  // the same in every plot
  std::function<Iteration(tg::Tensor, const Problem&)> make;
};

std::vector<Method> methods() {
  using namespace tg::optim;
  return {
      {"GD", "SGD lr", "#1b9e77",
       [](tg::Tensor p, const Problem& problem) {
         return first_order(
             std::make_shared<SGD>(std::vector{p}, SGDOptions{.lr = problem.rates.gd}), p, problem);
       }},
      {"momentum", "SGD lr, μ 0.9", "#d95f02",
       [](tg::Tensor p, const Problem& problem) {
         return first_order(
             std::make_shared<SGD>(std::vector{p},
                                   SGDOptions{.lr = problem.rates.momentum, .momentum = 0.9}),
             p, problem);
       }},
      {"Nesterov", "SGD lr, μ 0.9, nesterov", "#7570b3",
       [](tg::Tensor p, const Problem& problem) {
         return first_order(
             std::make_shared<SGD>(
                 std::vector{p},
                 SGDOptions{.lr = problem.rates.momentum, .momentum = 0.9, .nesterov = true}),
             p, problem);
       }},
      {"Adagrad", "lr", "#e7298a",
       [](tg::Tensor p, const Problem& problem) {
         return first_order(
             std::make_shared<Adagrad>(std::vector{p}, AdagradOptions{.lr = problem.rates.adagrad}),
             p, problem);
       }},
      {"RMSprop", "lr, α 0.99", "#66a61e",
       [](tg::Tensor p, const Problem& problem) {
         return first_order(
             std::make_shared<RMSprop>(std::vector{p}, RMSpropOptions{.lr = problem.rates.rmsprop}),
             p, problem);
       }},
      {"Adam", "lr, β (0.9, 0.999)", "#e6ab02",
       [](tg::Tensor p, const Problem& problem) {
         return first_order(
             std::make_shared<Adam>(std::vector{p}, AdamOptions{.lr = problem.rates.adam}), p,
             problem);
       }},
      {"L-BFGS", "lr 1, strong Wolfe", "#1f78b4", lbfgs},
      {"Newton", "H⁻¹∇f, tg::autograd::hessian", "#222222", newton},
  };
}

enum class Outcome { converged, not_converged, diverged, saddle };

struct Run {
  std::vector<Point> path;
  int64_t iterations = 0;
  Outcome outcome = Outcome::not_converged;
};

// Iterates from the problem's start until within `tolerance` of a minimum (converged), on a
// saddle (stuck: the gradient there is 0, so no method that follows it can leave), off to
// infinity (diverged), or out of iterations. The count is the number of updates made.
Run run(const Method& method, const Problem& problem, int64_t max_iterations, double tolerance) {
  tg::Tensor p =
      tg::tensor({problem.start[0], problem.start[1]}, {.dtype = tg::f64, .requires_grad = true});
  const Iteration iterate = method.make(p, problem);
  Run result;
  for (int64_t iteration = 0;; ++iteration) {
    const Point now = point_of(p);
    result.path.push_back(now);
    result.iterations = iteration;
    if (!std::isfinite(now[0]) || !std::isfinite(now[1]) || std::hypot(now[0], now[1]) > 1e6) {
      result.outcome = Outcome::diverged;
      return result;
    }
    for (const Point& minimum : problem.minima) {
      if (distance(now, minimum) < tolerance) {
        result.outcome = Outcome::converged;
        return result;
      }
    }
    for (const Point& saddle_point : problem.saddles) {
      if (distance(now, saddle_point) < tolerance * 1e-3) {
        result.outcome = Outcome::saddle;
        return result;
      }
    }
    if (iteration == max_iterations) return result;
    iterate();
  }
}

std::string describe(const Run& r, int64_t max_iterations) {
  switch (r.outcome) {
    case Outcome::converged:
      return fmt::format("{}", r.iterations);
    case Outcome::diverged:
      return fmt::format("diverged ({})", r.iterations);
    case Outcome::saddle:
      return fmt::format("saddle ({})", r.iterations);
    case Outcome::not_converged:
      break;
  }
  return fmt::format("> {}", max_iterations);
}

std::string file_stem(const Problem& problem, const Method& method) {
  std::string stem = problem.name + "_" + method.name;
  for (char& c : stem) {
    if (c == '-') c = '_';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return stem;
}

// Writes one path per method (at most ~400 points each, thinned evenly, ends kept) and the gnuplot
// commands that draw them over f's contours: contours go through `set table` to a data file, so
// the final picture is one 2-D plot of lines.
void write_plot(const std::filesystem::path& directory, const Problem& problem,
                const std::vector<Method>& all_methods, const std::vector<Run>& runs,
                std::ofstream& script) {
  for (size_t m = 0; m < all_methods.size(); ++m) {
    std::ofstream data(directory / (file_stem(problem, all_methods[m]) + ".dat"));
    data << "# " << all_methods[m].name << " on " << problem.name << ": w1 w2 per iteration\n";
    const std::vector<Point>& path = runs[m].path;
    const size_t stride = std::max<size_t>(1, path.size() / 400);
    for (size_t i = 0; i < path.size(); i += stride)
      data << fmt::format("{:.9g} {:.9g}\n", path[i][0], path[i][1]);
    if ((path.size() - 1) % stride != 0)
      data << fmt::format("{:.9g} {:.9g}\n", path.back()[0], path.back()[1]);
  }
  const auto& box = problem.plot_box;
  script << fmt::format(
      "\n# {0}: f = {1}\n"
      "f(x, y) = {2}\n"
      "set xrange [{3}:{4}]\nset yrange [{5}:{6}]\n"
      "set contour base\nunset surface\nset view map\nset isosamples 200, 200\n"
      "set cntrparam levels discrete {7}\n"
      "set table '{0}_contours.dat'\nsplot f(x, y)\nunset table\nunset contour\n"
      "set output '{0}.svg'\nset title '{0}: f = {1}, start ({8}, {9})'\n"
      "plot '{0}_contours.dat' with lines lc rgb '#c8c8c8' notitle",
      problem.name, problem.formula, problem.gnuplot_f, box[0], box[1], box[2], box[3],
      problem.contour_levels, problem.start[0], problem.start[1]);
  for (const Method& method : all_methods)
    script << fmt::format(
        ", \\\n     '{}.dat' with linespoints pt 7 ps 0.3 lw 1.5 lc rgb '{}' title '{}'",
        file_stem(problem, method), method.colour, method.name);
  script << "\n";
}

bool gnuplot_available() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

// The table, and the plots when asked for. Returns each problem's runs, method by method.
std::vector<std::vector<Run>> compare(const std::vector<Problem>& problems, int64_t max_iterations,
                                      double tolerance, const std::string& plot_dir) {
  const std::vector<Method> all_methods = methods();
  std::vector<std::vector<Run>> runs(problems.size());
  for (size_t i = 0; i < problems.size(); ++i)
    for (const Method& method : all_methods)
      runs[i].push_back(run(method, problems[i], max_iterations, tolerance));

  fmt::print("iterations until ‖w − w*‖ < {:g} (at most {}):\n", tolerance, max_iterations);
  fmt::print("  {:<10}", "method");
  for (const Problem& problem : problems) fmt::print(" {:>16}", problem.name);
  fmt::print("   settings\n");
  for (size_t m = 0; m < all_methods.size(); ++m) {
    fmt::print("  {:<10}", all_methods[m].name);
    for (size_t i = 0; i < problems.size(); ++i)
      fmt::print(" {:>16}", describe(runs[i][m], max_iterations));
    fmt::print("   {}\n", all_methods[m].settings);
  }
  fmt::print("  learning rates (GD, momentum/Nesterov, Adagrad, RMSprop, Adam):\n");
  for (const Problem& problem : problems) {
    const Rates& r = problem.rates;
    fmt::print("    {:<10} f = {:<26} from ({}, {}): {}, {}, {}, {}, {}\n", problem.name,
               problem.formula, problem.start[0], problem.start[1], r.gd, r.momentum, r.adagrad,
               r.rmsprop, r.adam);
  }

  if (!plot_dir.empty()) {
    const std::filesystem::path directory(plot_dir);
    std::filesystem::create_directories(directory);
    std::ofstream script(directory / "optimizers.gp");
    script << "# Trajectories of each optimizer over the contours of f; run in this directory.\n"
              "set terminal svg size 900,700 dynamic background rgb 'white'\n"
              "set key outside right top\nset xlabel 'w1'\nset ylabel 'w2'\n";
    for (size_t i = 0; i < problems.size(); ++i)
      write_plot(directory, problems[i], all_methods, runs[i], script);
    script.close();
    if (gnuplot_available()) {
      const std::string command =
          fmt::format("cd '{}' && gnuplot optimizers.gp > gnuplot.log 2>&1", directory.string());
      if (std::system(command.c_str()) == 0) {
        for (const Problem& problem : problems)
          fmt::print("  plot written: {}\n", (directory / (problem.name + ".svg")).string());
      } else {
        fmt::print("  gnuplot failed; see {}\n", (directory / "gnuplot.log").string());
      }
    } else {
      fmt::print("  trajectories and optimizers.gp written to {} (gnuplot not found: no SVG)\n",
                 directory.string());
    }
  }
  return runs;
}

// The learning rate of SGD(lr 0.1) under each scheduler, epoch by epoch:
//   StepLR            lr·γ^⌊t/step_size⌋
//   ExponentialLR     lr·γ^t
//   CosineAnnealingLR η_min + (lr − η_min)(1 + cos(πt/T_max))/2
void schedules() {
  tg::Tensor w = tg::zeros({1}, {.dtype = tg::f64, .requires_grad = true});
  tg::optim::SGD for_step({w}, {.lr = 0.1}), for_exponential({w}, {.lr = 0.1}),
      for_cosine({w}, {.lr = 0.1});
  tg::optim::StepLR step_lr(for_step, {.step_size = 4, .gamma = 0.5});
  tg::optim::ExponentialLR exponential_lr(for_exponential, {.gamma = 0.8});
  tg::optim::CosineAnnealingLR cosine_lr(for_cosine, {.T_max = 12, .eta_min = 0.0});
  fmt::print("\nlearning-rate schedules for SGD(lr 0.1), one scheduler.step() per epoch:\n");
  fmt::print("  {:>5}  {:>14}  {:>18}  {:>24}\n", "epoch", "StepLR(4, 0.5)", "ExponentialLR(0.8)",
             "CosineAnnealingLR(T 12)");
  for (int epoch = 0; epoch <= 12; ++epoch) {
    fmt::print("  {:>5}  {:>14.6f}  {:>18.6f}  {:>24.6f}\n", epoch, step_lr.last_lr(),
               exponential_lr.last_lr(), cosine_lr.last_lr());
    step_lr.step();
    exponential_lr.step();
    cosine_lr.step();
  }
}

}  // namespace

// Newton's method with the hessian helper: one step to a convex quadratic's minimum, then the
// Rosenbrock valley from (−1.5, 2), where curvature information beats L-BFGS's estimate of it.
void newton_with_hessian(int64_t max_iterations) {
  // f(w) = ½wᵀAw − bᵀw with A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]] (positive definite), b = [1, 2,
  // 3]: ∇f = Aw − b, H = A, so the minimum is A⁻¹b = (2/9, 1/9, 13/9) and Newton reaches it in a
  // step.
  const tg::Tensor A = tg::tensor({4, 1, 0, 1, 3, 1, 0, 1, 2}, {3, 3}, kF64);
  const tg::Tensor b = tg::tensor({1, 2, 3}, kF64);
  const auto quadratic = [A, b](const tg::Tensor& w) {
    return 0.5 * (w * tg::matmul(A, w)).sum() - (b * w).sum();
  };
  tg::Tensor w = tg::zeros({3}, {.dtype = tg::f64, .requires_grad = true});
  fmt::print("\nNewton with tg::autograd::hessian and tg::linalg::solve:\n");
  fmt::print("  convex quadratic ½wᵀAw − bᵀw from w = 0, H = {}\n",
             tg::to_string(tg::autograd::hessian(quadratic, w)));
  newton_step(w, quadratic);
  const std::vector<double> after = w.to_vector();
  const double gradient_norm = tg::grad({quadratic(w)}, {w})[0].pow(2.0).sum().sqrt().item();
  fmt::print(
      "  one Newton step: w = ({:.4f}, {:.4f}, {:.4f}), A⁻¹b = (2/9, 1/9, 13/9) = ({:.4f}, "
      "{:.4f}, {:.4f}), |∇f| = {:.1e}\n",
      after[0], after[1], after[2], 2.0 / 9, 1.0 / 9, 13.0 / 9, gradient_norm);

  Problem valley = rosenbrock();
  valley.start = {-1.5, 2.0};
  const std::vector<Method> all_methods = methods();
  int64_t newton_iterations = -1, lbfgs_iterations = -1;
  for (const Method& method : all_methods) {
    if (method.name != "Newton" && method.name != "L-BFGS") continue;
    const Run result = run(method, valley, max_iterations, 1e-4);
    (method.name == "Newton" ? newton_iterations : lbfgs_iterations) =
        result.outcome == Outcome::converged ? result.iterations : -1;
  }
  fmt::print(
      "  rosenbrock from (-1.5, 2) to within 1e-4 of (1, 1): Newton {} iterations, L-BFGS {}: "
      "{}\n",
      newton_iterations, lbfgs_iterations,
      newton_iterations > 0 && (lbfgs_iterations < 0 || newton_iterations < lbfgs_iterations)
          ? "Newton needs fewer"
          : "Newton does NOT need fewer");
}

int main(int argc, char** argv) {
  bool quick = false;
  std::string plot_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--plot-dir" && i + 1 < argc) {
      plot_dir = argv[++i];
    } else {
      fmt::print(stderr, "usage: {} [--quick] [--plot-dir DIR]\n", argv[0]);
      return 2;
    }
  }
  if (!quick && plot_dir.empty()) plot_dir = "optimizer_plots";

  const std::vector<Problem> problems =
      quick ? std::vector<Problem>{canyon()}
            : std::vector<Problem>{canyon(), rosenbrock(), saddle()};
  const int64_t max_iterations = quick ? 2000 : 20000;
  const auto runs = compare(problems, max_iterations, 1e-4, plot_dir);

  // The two lessons of the canyon, stated with the numbers above.
  const auto& canyon_runs = runs[0];
  const auto iterations_of = [&](std::string_view name) {
    const std::vector<Method> all_methods = methods();
    for (size_t m = 0; m < all_methods.size(); ++m)
      if (all_methods[m].name == name) return canyon_runs[m];
    return Run{};
  };
  const Run gd = iterations_of("GD"), momentum = iterations_of("momentum"),
            newton_run = iterations_of("Newton");
  fmt::print("canyon: Newton converged in {} iteration{}: on a quadratic H⁻¹∇f is the exact step\n",
             newton_run.iterations, newton_run.iterations == 1 ? "" : "s");
  fmt::print(
      "canyon: momentum {} iterations vs GD {}: momentum {} (velocity builds up along the "
      "canyon floor and cancels across it)\n",
      momentum.iterations, gd.iterations,
      momentum.outcome == Outcome::converged && momentum.iterations < gd.iterations
          ? "is faster"
          : "is NOT faster");
  schedules();
  newton_with_hessian(max_iterations);
}
