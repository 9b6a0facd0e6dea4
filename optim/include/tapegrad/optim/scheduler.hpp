// Learning-rate schedulers: StepLR, ExponentialLR, CosineAnnealingLR, LinearLR, ReduceLROnPlateau.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tapegrad/autograd/state_dict.hpp"
#include "tapegrad/optim/optimizer.hpp"

namespace tg::optim {

/// The base of the epoch-driven schedulers: each step() advances the epoch counter t and sets
/// every group's lr to a closed-form function of that group's base lr (its lr when the
/// scheduler was made) and t. Construction records the base lrs and, as PyTorch's initial
/// step does, sets the t = 0 value: the base lr itself for StepLR, ExponentialLR and
/// CosineAnnealingLR, base · start_factor for LinearLR (so warm-up starts at once).
///
///     tg::optim::SGD opt(params, {.lr = 0.1});
///     tg::optim::StepLR scheduler(opt, {.step_size = 30, .gamma = 0.1});
///     for (int epoch = 0; epoch < 100; ++epoch) { train(opt); scheduler.step(); }
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  /// Advances one epoch and sets every group's learning rate.
  void step();
  /// The learning rate of the first group as this scheduler last set it.
  double last_lr() const { return last_lrs_.front(); }
  /// The learning rate of every group as this scheduler last set it.
  const std::vector<double>& last_lrs() const { return last_lrs_; }
  /// The learning rate of each group when the scheduler was made.
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  /// The number of step() calls so far.
  int64_t last_epoch() const { return last_epoch_; }
  /// The scheduler's name as error messages and state dicts print it ("StepLR", ...).
  const char* name() const { return name_; }

  /// `type` (the scheduler's name), `last_epoch` (0-D i64), `base_lrs` and `last_lrs`
  /// ([groups] f64).
  StateDict state_dict() const;
  /// Restores a state_dict() of the same scheduler type and group count; validates every entry
  /// first and throws tg::Error naming the first bad one, changing nothing then. The
  /// optimizer's lrs are not touched: they are in the optimizer's own state dict.
  void load_state_dict(const StateDict& dict);

 protected:
  /// Records every group's current lr as its base lr; `name` prefixes error messages.
  LRScheduler(const char* name, Optimizer& optimizer);
  /// The learning rate at `epoch` for a group whose base lr is `base_lr`.
  virtual double lr_at(double base_lr, int64_t epoch) const = 0;
  /// Sets every group's lr to its t = 0 value; each derived constructor calls it once its
  /// options are checked (lr_at is virtual, so the base constructor cannot).
  void apply_initial_lr();

 private:
  const char* name_;
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lrs_;
  int64_t last_epoch_ = 0;
};

/// StepLR's options, PyTorch's names; step_size has no default and must be set (> 0).
struct StepLROptions {
  int64_t step_size = 0;  ///< epochs between decays
  double gamma = 0.1;     ///< the factor of each decay
};

/// lr = base · gamma^⌊t / step_size⌋ (torch.optim.lr_scheduler.StepLR).
class StepLR : public LRScheduler {
 public:
  /// Throws tg::Error for step_size <= 0 or gamma <= 0.
  StepLR(Optimizer& optimizer, StepLROptions options);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  StepLROptions options_;
};

/// ExponentialLR's options; gamma has no default in PyTorch and must be set (> 0).
struct ExponentialLROptions {
  double gamma = 0;  ///< the factor of each epoch's decay
};

/// lr = base · gamma^t (torch.optim.lr_scheduler.ExponentialLR).
class ExponentialLR : public LRScheduler {
 public:
  /// Throws tg::Error for gamma <= 0.
  ExponentialLR(Optimizer& optimizer, ExponentialLROptions options);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  ExponentialLROptions options_;
};

/// CosineAnnealingLR's options; T_max has no default in PyTorch and must be set (> 0).
struct CosineAnnealingLROptions {
  int64_t T_max = 0;   ///< epochs of one half-period
  double eta_min = 0;  ///< the smallest learning rate
};

/// lr = eta_min + (base − eta_min)(1 + cos(π t / T_max)) / 2, PyTorch's closed form after
/// Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts" (ICLR 2017);
/// past T_max the cosine climbs back, as PyTorch's does.
class CosineAnnealingLR : public LRScheduler {
 public:
  /// Throws tg::Error for T_max <= 0 or eta_min < 0.
  CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options);

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  CosineAnnealingLROptions options_;
};

/// LinearLR's options, PyTorch's names and defaults.
struct LinearLROptions {
  double start_factor = 1.0 / 3;  ///< the factor at t = 0, in (0, 1]
  double end_factor = 1.0;        ///< the factor from total_iters on, in [0, 1]
  int64_t total_iters = 5;        ///< epochs of the linear ramp (> 0)
};

/// lr = base · (start + (end − start) · min(t, total_iters) / total_iters), PyTorch's closed
/// form, for linear warm-up; construction already sets lr = base · start_factor.
class LinearLR : public LRScheduler {
 public:
  /// Throws tg::Error for factors outside their ranges or total_iters <= 0.
  LinearLR(Optimizer& optimizer, LinearLROptions options = {});

 private:
  double lr_at(double base_lr, int64_t epoch) const override;
  LinearLROptions options_;
};

/// ReduceLROnPlateau's options, PyTorch's names and defaults.
struct ReduceLROnPlateauOptions {
  std::string mode = "min";            ///< "min": lower metric is better; "max": higher is
  double factor = 0.1;                 ///< new lr = lr · factor, in [0, 1)
  int64_t patience = 10;               ///< epochs without improvement tolerated
  double threshold = 1e-4;             ///< how much better counts as better
  std::string threshold_mode = "rel";  ///< "rel": best·(1 ∓ threshold); "abs": best ∓ threshold
  int64_t cooldown = 0;                ///< epochs to wait after a reduction
  double min_lr = 0;                   ///< a floor for every group's lr
  double eps = 1e-8;                   ///< reductions smaller than this are skipped
};

/// Divides the learning rate by 1/factor when a metric has stopped improving for more than
/// `patience` epochs, as torch.optim.lr_scheduler.ReduceLROnPlateau does.
class ReduceLROnPlateau {
 public:
  /// Throws tg::Error for a bad mode, threshold_mode, factor or negative counts.
  ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
  ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

  /// Records this epoch's metric and reduces every group's lr if it has plateaued.
  void step(double metric);
  /// The first group's current learning rate.
  double last_lr() const;
  /// The best metric seen so far (±infinity before the first step).
  double best() const { return best_; }
  /// Epochs since the last improvement.
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  /// Epochs left in the cooldown after the last reduction.
  int64_t cooldown_counter() const { return cooldown_counter_; }

  /// `type`, the options (mode and threshold_mode as i64 character codes, the rest 0-D), and
  /// the counters `best` (0-D f64), `num_bad_epochs` and `cooldown_counter` (0-D i64).
  StateDict state_dict() const;
  /// Restores a state_dict() of a ReduceLROnPlateau; validates every entry first and throws
  /// tg::Error naming the first bad one, changing nothing then.
  void load_state_dict(const StateDict& dict);

 private:
  bool is_better(double metric) const;

  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

}  // namespace tg::optim
