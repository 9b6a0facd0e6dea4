// tg::optim::LBFGS: limited-memory BFGS with an optional strong-Wolfe line search.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// LBFGS's options, PyTorch's names and defaults.
struct LBFGSOptions {
  double lr = 1;          ///< the step length (the line search's first trial)
  int64_t max_iter = 20;  ///< iterations per step()
  std::optional<int64_t> max_eval =
      std::nullopt;                 ///< closure calls per step(); unset: max_iter·5/4
  double tolerance_grad = 1e-7;     ///< stop when max|∇| falls to this
  double tolerance_change = 1e-9;   ///< stop when the loss or the step changes less
  int64_t history_size = 100;       ///< curvature pairs (s, y) kept
  std::string line_search_fn = "";  ///< "" (fixed step lr) or "strong_wolfe"

  /// The entries of state_dict(), PyTorch's names.
  static std::vector<Field<LBFGSOptions>> fields() {
    return {{"lr", &LBFGSOptions::lr},
            {"max_iter", &LBFGSOptions::max_iter},
            {"max_eval", &LBFGSOptions::max_eval},
            {"tolerance_grad", &LBFGSOptions::tolerance_grad},
            {"tolerance_change", &LBFGSOptions::tolerance_change},
            {"history_size", &LBFGSOptions::history_size},
            {"line_search_fn", &LBFGSOptions::line_search_fn}};
  }
};

/// The curvature history and counters LBFGS keeps between calls of step(closure).
struct LBFGSState {
  int64_t func_evals = 0;                    ///< closure calls over all steps
  int64_t n_iter = 0;                        ///< iterations over all steps
  std::vector<double> direction;             ///< d, the last search direction
  double step_length = 0;                    ///< t, the last step length
  std::deque<std::vector<double>> old_dirs;  ///< y_k = ∇_{k+1} − ∇_k
  std::deque<std::vector<double>> old_stps;  ///< s_k = t·d_k
  std::deque<double> ro;                     ///< 1 / (y_k · s_k)
  double H_diag = 1;                         ///< the initial inverse-Hessian scale
  std::vector<double> prev_flat_grad;        ///< the gradient of the previous iteration
  double prev_loss = 0;                      ///< the loss of the previous iteration

  /// The entries of state_dict(), PyTorch's names (lists as `old_dirs.<k>`).
  static std::vector<Field<LBFGSState>> fields() {
    return {{"func_evals", &LBFGSState::func_evals},
            {"n_iter", &LBFGSState::n_iter},
            {"d", &LBFGSState::direction},
            {"t", &LBFGSState::step_length},
            {"old_dirs", &LBFGSState::old_dirs},
            {"old_stps", &LBFGSState::old_stps},
            {"ro", &LBFGSState::ro},
            {"H_diag", &LBFGSState::H_diag},
            {"prev_flat_grad", &LBFGSState::prev_flat_grad},
            {"prev_loss", &LBFGSState::prev_loss}};
  }
};

/// L-BFGS, after Nocedal, "Updating Quasi-Newton Matrices with Limited Storage" (Math. Comp.
/// 1980) and Liu and Nocedal (Math. Prog. 1989), in the form of torch.optim.LBFGS (itself after
/// minFunc): each iteration builds the direction d = −H∇ by the two-loop recursion over the
/// last history_size pairs (s, y) with H₀ = (y·s / y·y)·I, then moves θ ← θ + t·d with
/// t = min(1, 1/‖∇‖₁)·lr on the first iteration and lr later, or with t from a strong-Wolfe
/// line search (cubic interpolation, c1 = 1e-4, c2 = 0.9, at most 25 evaluations).
/// One group only; the flat vectors are kept in double whatever the parameters' dtype.
///
///     tg::optim::LBFGS opt({w}, {.line_search_fn = "strong_wolfe"});
///     auto closure = [&] {
///       opt.zero_grad();
///       tg::Tensor loss = f(w);
///       loss.backward();
///       return loss;
///     };
///     for (int i = 0; i < 10; ++i) opt.step(closure);
/// Its history is the state of parameter 0 (state_dict() names it `state.0.<name>`, as
/// PyTorch does); add_param_group throws, since LBFGS has one group.
class LBFGS : public OptimizerBase<LBFGSOptions, LBFGSState, "LBFGS"> {
 public:
  /// Optimizes `params` (one group); throws tg::Error for invalid options.
  explicit LBFGS(std::vector<Tensor> params, LBFGSOptions options = {});

  /// Runs up to max_iter iterations; `closure` clears the gradients, computes the loss,
  /// calls backward() on it and returns it. Returns the loss of the first evaluation.
  /// Throws tg::Error without a closure.
  Tensor step(std::function<Tensor()> closure = {}) override;
  /// Throws tg::Error: LBFGS keeps one group.
  void add_param_group(std::vector<Tensor> params) override;
  /// The history and counters.
  const LBFGSState& state() const { return OptimizerBase::state(0); }

 private:
  void update(Tensor& param, const Tensor& grad, LBFGSState& state,
              const LBFGSOptions& options) override;
  std::string check_loaded(const std::vector<LBFGSState>& loaded) const override;
};

}  // namespace tg::optim
