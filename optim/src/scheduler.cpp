// The learning-rate schedulers: option checks and their closed forms.
#include "tapegrad/optim/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "tapegrad/optim/optimizer_base.hpp"
#include "tapegrad/optim/state_io.hpp"

namespace tg::optim {

LRScheduler::LRScheduler(const char* name, Optimizer& optimizer)
    : name_(name), optimizer_(optimizer) {
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

StateDict LRScheduler::state_dict() const {
  StateDict dict;
  detail::write(dict, "type", std::string(name_));
  detail::write(dict, "last_epoch", last_epoch_);
  const auto groups = static_cast<int64_t>(base_lrs_.size());
  dict["base_lrs"] = tg::tensor(base_lrs_, {groups}, {.dtype = DType::f64});
  dict["last_lrs"] = tg::tensor(last_lrs_, {groups}, {.dtype = DType::f64});
  return dict;
}

void LRScheduler::load_state_dict(const StateDict& dict) {
  detail::Reader reader(dict, name_);
  reader.expect_string("type", name_);
  int64_t last_epoch = 0;
  reader.read("last_epoch", last_epoch, {});
  if (last_epoch < 0) reader.fail(fmt::format("entry last_epoch is {}, expected >= 0", last_epoch));
  const auto groups = static_cast<int64_t>(base_lrs_.size());
  const detail::Expected per_group{.like = tg::zeros({groups}, {.dtype = DType::f64})};
  Tensor base_lrs;
  Tensor last_lrs;
  reader.read("base_lrs", base_lrs, per_group);
  reader.read("last_lrs", last_lrs, per_group);
  if (!base_lrs.defined()) reader.fail("missing entry base_lrs");
  if (!last_lrs.defined()) reader.fail("missing entry last_lrs");
  reader.check_all_read();
  last_epoch_ = last_epoch;
  base_lrs_ = base_lrs.to_vector();
  last_lrs_ = last_lrs.to_vector();
}

StepLR::StepLR(Optimizer& optimizer, StepLROptions options)
    : LRScheduler("StepLR", optimizer), options_(options) {
  detail::require(options.step_size > 0, "StepLR", "step_size",
                  static_cast<double>(options.step_size), "> 0");
  detail::require(options.gamma > 0, "StepLR", "gamma", options.gamma, "> 0");
  apply_initial_lr();
}

double StepLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(options_.gamma, static_cast<double>(epoch / options_.step_size));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, ExponentialLROptions options)
    : LRScheduler("ExponentialLR", optimizer), options_(options) {
  detail::require(options.gamma > 0, "ExponentialLR", "gamma", options.gamma, "> 0");
  apply_initial_lr();
}

double ExponentialLR::lr_at(double base_lr, int64_t epoch) const {
  return base_lr * std::pow(options_.gamma, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options)
    : LRScheduler("CosineAnnealingLR", optimizer), options_(options) {
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
    : LRScheduler("LinearLR", optimizer), options_(options) {
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

namespace {

void validate(const ReduceLROnPlateauOptions& o) {
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
}

// The options as state_dict() names them, PyTorch's names.
template <class Options, class Visit>
void visit_options(Options& o, Visit&& visit) {
  visit("mode", o.mode);
  visit("factor", o.factor);
  visit("patience", o.patience);
  visit("threshold", o.threshold);
  visit("threshold_mode", o.threshold_mode);
  visit("cooldown", o.cooldown);
  visit("min_lr", o.min_lr);
  visit("eps", o.eps);
}

}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  validate(options_);
  const double infinity = std::numeric_limits<double>::infinity();
  best_ = options_.mode == "min" ? infinity : -infinity;
}

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict dict;
  detail::write(dict, "type", std::string("ReduceLROnPlateau"));
  visit_options(options_,
                [&](const char* key, const auto& value) { detail::write(dict, key, value); });
  detail::write(dict, "best", best_);
  detail::write(dict, "num_bad_epochs", num_bad_epochs_);
  detail::write(dict, "cooldown_counter", cooldown_counter_);
  return dict;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& dict) {
  detail::Reader reader(dict, "ReduceLROnPlateau");
  reader.expect_string("type", "ReduceLROnPlateau");
  ReduceLROnPlateauOptions options;
  visit_options(options, [&](const char* key, auto& value) { reader.read(key, value, {}); });
  double best = 0;
  int64_t num_bad_epochs = 0;
  int64_t cooldown_counter = 0;
  reader.read("best", best, {});
  reader.read("num_bad_epochs", num_bad_epochs, {});
  reader.read("cooldown_counter", cooldown_counter, {});
  reader.check_all_read();
  try {
    validate(options);
  } catch (const Error& error) {
    reader.fail(error.what());
  }
  if (num_bad_epochs < 0 || cooldown_counter < 0)
    reader.fail(fmt::format("negative counters num_bad_epochs {} and cooldown_counter {}",
                            num_bad_epochs, cooldown_counter));
  options_ = std::move(options);
  best_ = best;
  num_bad_epochs_ = num_bad_epochs;
  cooldown_counter_ = cooldown_counter;
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
