// The learning-rate schedulers: option checks and their closed forms.
#include "tapegrad/optim/scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "common.hpp"

namespace tg::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const ParamGroupView& group : optimizer_.param_groups()) base_lrs_.push_back(group.lr);
  last_lrs_ = base_lrs_;
}

void LRScheduler::apply_initial_lr() {
  std::vector<ParamGroupView> groups = optimizer_.param_groups();
  for (size_t g = 0; g < groups.size() && g < base_lrs_.size(); ++g) {
    groups[g].lr = lr_at(base_lrs_[g], 0);
    last_lrs_[g] = groups[g].lr;
  }
}

void LRScheduler::step() {
  last_epoch_ += 1;
  std::vector<ParamGroupView> groups = optimizer_.param_groups();
  for (size_t g = 0; g < groups.size() && g < base_lrs_.size(); ++g) {
    groups[g].lr = lr_at(base_lrs_[g], last_epoch_);
    last_lrs_[g] = groups[g].lr;
  }
}

StepLR::StepLR(Optimizer& optimizer, StepLROptions options)
    : LRScheduler(optimizer), options_(options) {
  detail::require(options.step_size > 0, "StepLR", "step_size",
                  static_cast<double>(options.step_size), "> 0");
  detail::require(options.gamma > 0, "StepLR", "gamma", options.gamma, "> 0");
  apply_initial_lr();
}

double StepLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(options_.gamma, static_cast<double>(epoch / options_.step_size));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, ExponentialLROptions options)
    : LRScheduler(optimizer), options_(options) {
  detail::require(options.gamma > 0, "ExponentialLR", "gamma", options.gamma, "> 0");
  apply_initial_lr();
}

double ExponentialLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(options_.gamma, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options)
    : LRScheduler(optimizer), options_(options) {
  detail::require(options.T_max > 0, "CosineAnnealingLR", "T_max",
                  static_cast<double>(options.T_max), "> 0");
  detail::require(options.eta_min >= 0, "CosineAnnealingLR", "eta_min", options.eta_min, ">= 0");
  apply_initial_lr();
}

double CosineAnnealingLR::lr_at(double base_lr, int64_t epoch) const {
  const double phase =
      std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(options_.T_max);
  return options_.eta_min + (base_lr - options_.eta_min) * (1 + std::cos(phase)) / 2;
}

LinearLR::LinearLR(Optimizer& optimizer, LinearLROptions options)
    : LRScheduler(optimizer), options_(options) {
  detail::require(options.start_factor > 0 && options.start_factor <= 1, "LinearLR", "start_factor",
                  options.start_factor, "in (0, 1]");
  detail::require(options.end_factor >= 0 && options.end_factor <= 1, "LinearLR", "end_factor",
                  options.end_factor, "in [0, 1]");
  detail::require(options.total_iters > 0, "LinearLR", "total_iters",
                  static_cast<double>(options.total_iters), "> 0");
  apply_initial_lr();
}

double LinearLR::lr_at(double base_lr, int64_t epoch) const {
  const double progress = static_cast<double>(std::min(epoch, options_.total_iters)) /
                          static_cast<double>(options_.total_iters);
  return base_lr *
         (options_.start_factor + (options_.end_factor - options_.start_factor) * progress);
}

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  const ReduceLROnPlateauOptions& o = options_;
  if (o.mode != "min" && o.mode != "max")
    throw Error(
        fmt::format("ReduceLROnPlateau: invalid mode \"{}\" (must be \"min\" or \"max\")", o.mode));
  if (o.threshold_mode != "rel" && o.threshold_mode != "abs")
    throw Error(
        fmt::format("ReduceLROnPlateau: invalid threshold_mode \"{}\" (must be \"rel\" or \"abs\")",
                    o.threshold_mode));
  detail::require(o.factor >= 0 && o.factor < 1, "ReduceLROnPlateau", "factor", o.factor,
                  "in [0, 1)");
  detail::require(o.patience >= 0, "ReduceLROnPlateau", "patience", static_cast<double>(o.patience),
                  ">= 0");
  detail::require(o.threshold >= 0, "ReduceLROnPlateau", "threshold", o.threshold, ">= 0");
  detail::require(o.cooldown >= 0, "ReduceLROnPlateau", "cooldown", static_cast<double>(o.cooldown),
                  ">= 0");
  detail::require(o.min_lr >= 0, "ReduceLROnPlateau", "min_lr", o.min_lr, ">= 0");
  detail::require(o.eps >= 0, "ReduceLROnPlateau", "eps", o.eps, ">= 0");
  const double infinity = std::numeric_limits<double>::infinity();
  best_ = o.mode == "min" ? infinity : -infinity;
}

bool ReduceLROnPlateau::is_better(double metric) const {
  const bool relative = options_.threshold_mode == "rel";
  if (options_.mode == "min")
    return metric < (relative ? best_ * (1 - options_.threshold) : best_ - options_.threshold);
  return metric > (relative ? best_ * (1 + options_.threshold) : best_ + options_.threshold);
}

void ReduceLROnPlateau::step(double metric) {
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    num_bad_epochs_ += 1;
  }
  if (cooldown_counter_ > 0) {  // bad epochs during a cooldown do not count
    cooldown_counter_ -= 1;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > options_.patience) {
    for (ParamGroupView& group : optimizer_.param_groups()) {
      const double reduced = std::max(group.lr * options_.factor, options_.min_lr);
      if (group.lr - reduced > options_.eps) group.lr = reduced;
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
}

double ReduceLROnPlateau::last_lr() const { return optimizer_.lr(); }

}  // namespace tg::optim
