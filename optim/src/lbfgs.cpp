// LBFGS: the two-loop recursion, the strong-Wolfe line search and the outer iteration, on flat
// double vectors gathered from the parameters.
#include "tapegrad/optim/lbfgs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "tapegrad/optim/optimizer_base.hpp"

namespace tg::optim {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

double max_abs(const std::vector<double>& a) {
  double result = 0;
  for (double x : a) result = std::max(result, std::abs(x));
  return result;
}

// The loss and flat gradient at one point.
struct Evaluation {
  double loss = 0;
  std::vector<double> grad;
};

// The parameters seen as one flat vector of doubles.
class FlatParams {
 public:
  explicit FlatParams(const std::vector<Tensor>& params) : params_(params) {
    for (const Tensor& p : params_) size_ += static_cast<size_t>(p.numel());
  }
  size_t size() const { return size_; }

  // Absent gradients count as zeros, as in PyTorch.
  std::vector<double> gradient() const {
    std::vector<double> flat(size_, 0.0);
    size_t offset = 0;
    for (const Tensor& p : params_) {
      const Tensor grad = detail::checked_grad("LBFGS", p);
      const auto n = static_cast<size_t>(p.numel());
      if (grad.defined()) {
        tg::detail::dispatch_floating("LBFGS", p.dtype(), [&]<class T>() {
          const T* g = grad.data<T>();
          for (size_t i = 0; i < n; ++i) flat[offset + i] = static_cast<double>(g[i]);
        });
      }
      offset += n;
    }
    return flat;
  }

  std::vector<double> values() const {
    std::vector<double> flat(size_);
    size_t offset = 0;
    for (const Tensor& p : params_) {
      const auto n = static_cast<size_t>(p.numel());
      tg::detail::dispatch_floating("LBFGS", p.dtype(), [&]<class T>() {
        const T* x = p.data<T>();
        for (size_t i = 0; i < n; ++i) flat[offset + i] = static_cast<double>(x[i]);
      });
      offset += n;
    }
    return flat;
  }

  void set(const std::vector<double>& flat) {
    size_t offset = 0;
    for (Tensor p : params_) {
      const auto n = static_cast<size_t>(p.numel());
      tg::detail::dispatch_floating("LBFGS", p.dtype(), [&]<class T>() {
        T* x = p.data<T>();
        for (size_t i = 0; i < n; ++i) x[i] = static_cast<T>(flat[offset + i]);
      });
      p.mark_modified();
      offset += n;
    }
  }

  // θ ← θ + t·d
  void add(double t, const std::vector<double>& d) {
    size_t offset = 0;
    for (Tensor p : params_) {
      const auto n = static_cast<size_t>(p.numel());
      tg::detail::dispatch_floating("LBFGS", p.dtype(), [&]<class T>() {
        T* x = p.data<T>();
        for (size_t i = 0; i < n; ++i)
          x[i] = static_cast<T>(static_cast<double>(x[i]) + t * d[offset + i]);
      });
      p.mark_modified();
      offset += n;
    }
  }

 private:
  const std::vector<Tensor>& params_;
  size_t size_ = 0;
};

// The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
// [lo, hi]; the midpoint when the cubic has no minimiser.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         double lo, double hi) {
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (!(d2_square >= 0)) return (lo + hi) / 2;
  const double d2 = std::sqrt(d2_square);
  const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                  : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(min_pos, lo), hi);
}

double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2) {
  return cubic_interpolate(x1, f1, g1, x2, f2, g2, std::min(x1, x2), std::max(x1, x2));
}

struct LineSearchResult {
  Evaluation at;
  double t = 0;
  int64_t evaluations = 0;
};

// A point of the bracket: step length, loss, gradient and directional derivative.
struct BracketPoint {
  double t = 0;
  double f = 0;
  std::vector<double> g;
  double gtd = 0;
};

// The strong-Wolfe line search of minFunc as torch.optim.LBFGS runs it: a bracketing phase that
// extrapolates by cubic interpolation, then a zoom phase that shrinks the bracket until
// f(t) <= f(0) + c1·t·f'(0) and |f'(t)| <= −c2·f'(0). `evaluate(t)` gives loss and gradient
// at θ + t·d and leaves θ unchanged.
template <class Evaluate>
LineSearchResult strong_wolfe(Evaluate&& evaluate, double t, const std::vector<double>& d, double f,
                              const std::vector<double>& g, double gtd) {
  constexpr double c1 = 1e-4;
  constexpr double c2 = 0.9;
  constexpr double tolerance_change = 1e-9;
  constexpr int64_t max_ls = 25;
  const double d_norm = max_abs(d);

  Evaluation current = evaluate(t);
  int64_t evaluations = 1;
  double gtd_new = dot(current.grad, d);
  BracketPoint previous{0, f, g, gtd};
  BracketPoint bracket[2];
  int bracket_size = 0;
  bool done = false;
  int64_t ls_iter = 0;
  while (ls_iter < max_ls) {
    if (current.loss > f + c1 * t * gtd || (ls_iter > 1 && current.loss >= previous.f)) {
      bracket[0] = previous;
      bracket[1] = {t, current.loss, current.grad, gtd_new};
      bracket_size = 2;
      break;
    }
    if (std::abs(gtd_new) <= -c2 * gtd) {
      bracket[0] = {t, current.loss, current.grad, gtd_new};
      bracket_size = 1;
      done = true;
      break;
    }
    if (gtd_new >= 0) {
      bracket[0] = previous;
      bracket[1] = {t, current.loss, current.grad, gtd_new};
      bracket_size = 2;
      break;
    }
    // Extrapolate: the next trial lies between 1.01 and 10 times further than this one.
    const double min_step = t + 0.01 * (t - previous.t);
    const double max_step = t * 10;
    const double next = cubic_interpolate(previous.t, previous.f, previous.gtd, t, current.loss,
                                          gtd_new, min_step, max_step);
    previous = {t, current.loss, std::move(current.grad), gtd_new};
    t = next;
    current = evaluate(t);
    evaluations += 1;
    gtd_new = dot(current.grad, d);
    ls_iter += 1;
  }
  if (ls_iter == max_ls) {
    bracket[0] = {0, f, g, gtd};
    bracket[1] = {t, current.loss, current.grad, gtd_new};
    bracket_size = 2;
  }

  // Zoom: [low, high] brackets a point satisfying the strong Wolfe conditions.
  bool insufficient_progress = false;
  int low = bracket[0].f <= bracket[bracket_size - 1].f ? 0 : 1;
  int high = 1 - low;
  while (!done && ls_iter < max_ls) {
    if (std::abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change) break;
    t = cubic_interpolate(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t, bracket[1].f,
                          bracket[1].gtd);
    // Keep trials away from the bracket's ends, where progress stalls.
    const double b_max = std::max(bracket[0].t, bracket[1].t);
    const double b_min = std::min(bracket[0].t, bracket[1].t);
    const double margin = 0.1 * (b_max - b_min);
    if (std::min(b_max - t, t - b_min) < margin) {
      if (insufficient_progress || t >= b_max || t <= b_min) {
        t = std::abs(t - b_max) < std::abs(t - b_min) ? b_max - margin : b_min + margin;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }
    current = evaluate(t);
    evaluations += 1;
    gtd_new = dot(current.grad, d);
    ls_iter += 1;
    if (current.loss > f + c1 * t * gtd || current.loss >= bracket[low].f) {
      bracket[high] = {t, current.loss, std::move(current.grad), gtd_new};
      low = bracket[0].f <= bracket[1].f ? 0 : 1;
      high = 1 - low;
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd) {
        done = true;
      } else if (gtd_new * (bracket[high].t - bracket[low].t) >= 0) {
        bracket[high] = bracket[low];
      }
      bracket[low] = {t, current.loss, std::move(current.grad), gtd_new};
    }
  }
  BracketPoint& best = bracket[low];
  return {{best.f, std::move(best.g)}, best.t, evaluations};
}

// Calls the closure with recording on and returns its loss.
Tensor call_closure(const std::function<Tensor()>& closure) {
  EnableGradGuard enable_grad;
  Tensor loss = closure();
  if (!loss.defined()) throw Error("LBFGS: the closure returned an undefined tensor");
  return loss;
}

void validate(const char* name, const LBFGSOptions& o) {
  detail::require(o.lr >= 0, name, "learning rate", o.lr, ">= 0");
  detail::require(o.max_iter > 0, name, "max_iter", static_cast<double>(o.max_iter), "> 0");
  detail::require(o.max_eval.value_or(0) > 0, name, "max_eval",
                  static_cast<double>(o.max_eval.value_or(0)), "> 0");
  detail::require(o.tolerance_grad >= 0, name, "tolerance_grad", o.tolerance_grad, ">= 0");
  detail::require(o.tolerance_change >= 0, name, "tolerance_change", o.tolerance_change, ">= 0");
  detail::require(o.history_size > 0, name, "history_size", static_cast<double>(o.history_size),
                  "> 0");
  if (o.line_search_fn != "" && o.line_search_fn != "strong_wolfe")
    throw Error(fmt::format("{}: invalid line_search_fn \"{}\" (must be \"\" or \"strong_wolfe\")",
                            name, o.line_search_fn));
}

LBFGSOptions with_max_eval(LBFGSOptions options) {
  if (!options.max_eval) options.max_eval = options.max_iter * 5 / 4;
  return options;
}

}  // namespace

template class OptimizerBase<LBFGSOptions, LBFGSState, "LBFGS">;

LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions options)
    : OptimizerBase("LBFGS", {{std::move(params), with_max_eval(std::move(options))}}, validate) {}

void LBFGS::add_param_group(std::vector<Tensor>) {
  throw Error("LBFGS: add_param_group is not supported; LBFGS optimizes one group of parameters");
}

void LBFGS::update(Tensor&, const Tensor&, LBFGSState&, const LBFGSOptions&) {
  // step() updates every parameter at once from the flat history; the per-parameter hook of
  // the base's loop is never reached.
  throw Error("LBFGS: the per-parameter update is not used; call step(closure)");
}

std::string LBFGS::check_loaded(const std::vector<LBFGSState>& loaded) const {
  const LBFGSState& s = loaded.front();
  if (s.old_dirs.size() != s.old_stps.size() || s.old_dirs.size() != s.ro.size())
    return fmt::format("state.0 holds {} old_dirs, {} old_stps and {} ro; they must agree",
                       s.old_dirs.size(), s.old_stps.size(), s.ro.size());
  if (static_cast<int64_t>(s.old_dirs.size()) > options().history_size)
    return fmt::format("state.0 holds {} curvature pairs, more than history_size {}",
                       s.old_dirs.size(), options().history_size);
  if (s.n_iter > 0 && (s.direction.empty() || s.prev_flat_grad.empty()))
    return fmt::format("state.0 has n_iter {} but no d or prev_flat_grad", s.n_iter);
  return {};
}

Tensor LBFGS::step(std::function<Tensor()> closure) {
  if (!closure)
    throw Error(
        "LBFGS: step() needs a closure that re-evaluates the loss (got an empty closure); call "
        "step(closure) with a function that clears the gradients, computes the loss, calls "
        "backward() and returns it");
  NoGradGuard no_grad;
  LBFGSState& s = mutable_state().front();
  const LBFGSOptions& options = this->options();
  FlatParams flat(group_params(0));
  const double lr = options.lr;
  const int64_t max_iter = options.max_iter;
  const int64_t max_eval = *options.max_eval;
  const double tolerance_change = options.tolerance_change;

  auto evaluate = [&]() {
    Evaluation e;
    e.loss = call_closure(closure).item();
    e.grad = flat.gradient();
    return e;
  };

  const Tensor orig_loss = call_closure(closure);
  double loss = orig_loss.item();
  std::vector<double> flat_grad = flat.gradient();
  int64_t current_evals = 1;
  s.func_evals += 1;
  if (max_abs(flat_grad) <= options.tolerance_grad) return orig_loss;

  std::vector<double>& d = s.direction;
  double& t = s.step_length;
  std::vector<double> alpha;
  int64_t n_iter = 0;
  while (n_iter < max_iter) {
    n_iter += 1;
    s.n_iter += 1;

    // The direction: steepest descent first, then the two-loop recursion d = −H∇.
    if (s.n_iter == 1) {
      d.resize(flat_grad.size());
      for (size_t i = 0; i < d.size(); ++i) d[i] = -flat_grad[i];
      s.old_dirs.clear();
      s.old_stps.clear();
      s.ro.clear();
      s.H_diag = 1;
    } else {
      std::vector<double> y(flat_grad.size());
      std::vector<double> step(flat_grad.size());
      for (size_t i = 0; i < y.size(); ++i) {
        y[i] = flat_grad[i] - s.prev_flat_grad[i];
        step[i] = d[i] * t;
      }
      const double ys = dot(y, step);
      if (ys > 1e-10) {  // keep only pairs with positive curvature, so H stays positive definite
        if (static_cast<int64_t>(s.old_dirs.size()) == options.history_size) {
          s.old_dirs.pop_front();
          s.old_stps.pop_front();
          s.ro.pop_front();
        }
        s.H_diag = ys / dot(y, y);
        s.old_dirs.push_back(std::move(y));
        s.old_stps.push_back(std::move(step));
        s.ro.push_back(1 / ys);
      }
      const size_t num_old = s.old_dirs.size();
      alpha.assign(num_old, 0.0);
      std::vector<double> q(flat_grad.size());
      for (size_t i = 0; i < q.size(); ++i) q[i] = -flat_grad[i];
      for (size_t k = num_old; k-- > 0;) {
        alpha[k] = dot(s.old_stps[k], q) * s.ro[k];
        for (size_t i = 0; i < q.size(); ++i) q[i] -= alpha[k] * s.old_dirs[k][i];
      }
      for (size_t i = 0; i < q.size(); ++i) q[i] *= s.H_diag;
      for (size_t k = 0; k < num_old; ++k) {
        const double beta = dot(s.old_dirs[k], q) * s.ro[k];
        for (size_t i = 0; i < q.size(); ++i) q[i] += (alpha[k] - beta) * s.old_stps[k][i];
      }
      d = std::move(q);
    }
    s.prev_flat_grad = flat_grad;
    s.prev_loss = loss;

    // The first step is scaled down by ‖∇‖₁ since no curvature is known yet.
    if (s.n_iter == 1) {
      double l1 = 0;
      for (double g : flat_grad) l1 += std::abs(g);
      t = std::min(1.0, 1.0 / l1) * lr;
    } else {
      t = lr;
    }
    const double gtd = dot(flat_grad, d);
    if (gtd > -tolerance_change) break;  // not a descent direction any more

    int64_t ls_evals = 0;
    bool opt_cond = false;
    if (options.line_search_fn == "strong_wolfe") {
      const std::vector<double> x_init = flat.values();
      auto evaluate_at = [&](double trial) {
        flat.add(trial, d);
        Evaluation e = evaluate();
        flat.set(x_init);
        return e;
      };
      LineSearchResult result = strong_wolfe(evaluate_at, t, d, loss, flat_grad, gtd);
      loss = result.at.loss;
      flat_grad = std::move(result.at.grad);
      t = result.t;
      ls_evals = result.evaluations;
      flat.add(t, d);
      opt_cond = max_abs(flat_grad) <= options.tolerance_grad;
    } else {
      flat.add(t, d);
      if (n_iter != max_iter) {
        Evaluation e = evaluate();
        loss = e.loss;
        flat_grad = std::move(e.grad);
        opt_cond = max_abs(flat_grad) <= options.tolerance_grad;
        ls_evals = 1;
      }
    }
    current_evals += ls_evals;
    s.func_evals += ls_evals;

    if (n_iter == max_iter) break;
    if (current_evals >= max_eval) break;
    if (opt_cond) break;
    if (max_abs(d) * std::abs(t) <= tolerance_change) break;
    if (std::abs(loss - s.prev_loss) < tolerance_change) break;
  }
  return orig_loss;
}

}  // namespace tg::optim
