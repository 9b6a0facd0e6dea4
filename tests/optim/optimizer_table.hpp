// The optimizer table: one row per optimizer and option set that the generic optimizer and
// state-dict tests iterate, so a new optimizer is one row here.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim.hpp>
#include <vector>

namespace tg::testing {

/// One optimizer configuration: its name() and a factory over parameters and a learning rate.
struct OptimizerRow {
  std::string label;  ///< what the row tests, e.g. "SGD nesterov"
  std::string name;   ///< Optimizer::name()
  std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>, double lr)> make;
  double lr;           // a learning rate that converges on training_loss
  bool needs_closure;  // LBFGS
  bool one_group;      // LBFGS: add_param_group throws
};

template <class Opt, class Options>
std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>, double)> factory(
    Options options) {
  return [options](std::vector<Tensor> params, double lr) {
    Options with_lr = options;
    with_lr.lr = lr;
    return std::make_unique<Opt>(std::move(params), with_lr);
  };
}

/// Every optimizer, with the option sets whose state differs.
inline std::vector<OptimizerRow> optimizer_table() {
  using namespace tg::optim;
  return {
      {"SGD", "SGD", factory<SGD>(SGDOptions{}), 0.1, false, false},
      {"SGD momentum, weight decay", "SGD",
       factory<SGD>(SGDOptions{.momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}), 0.05,
       false, false},
      {"SGD nesterov", "SGD",
       factory<SGD>(SGDOptions{.momentum = 0.9, .weight_decay = 0.01, .nesterov = true}), 0.05,
       false, false},
      {"Adagrad", "Adagrad",
       factory<Adagrad>(AdagradOptions{
           .lr_decay = 0.01, .weight_decay = 0.01, .initial_accumulator_value = 0.1}),
       0.5, false, false},
      {"RMSprop", "RMSprop", factory<RMSprop>(RMSpropOptions{}), 0.05, false, false},
      {"RMSprop centered, momentum", "RMSprop",
       factory<RMSprop>(RMSpropOptions{.weight_decay = 0.01, .momentum = 0.5, .centered = true}),
       0.03, false, false},
      {"Adam", "Adam", factory<Adam>(AdamOptions{}), 0.05, false, false},
      {"Adam amsgrad", "Adam",
       factory<Adam>(AdamOptions{.betas = {0.8, 0.9}, .weight_decay = 0.01, .amsgrad = true}), 0.05,
       false, false},
      {"AdamW", "AdamW", factory<AdamW>(AdamWOptions{.amsgrad = true}), 0.05, false, false},
      {"NAdam", "NAdam", factory<NAdam>(NAdamOptions{.weight_decay = 0.01}), 0.05, false, false},
      {"RAdam", "RAdam", factory<RAdam>(RAdamOptions{.betas = {0.9, 0.99}}), 0.05, false, false},
      {"Adamax", "Adamax", factory<Adamax>(AdamaxOptions{.weight_decay = 0.01}), 0.2, false, false},
      {"Adadelta", "Adadelta", factory<Adadelta>(AdadeltaOptions{.rho = 0.8, .eps = 1e-2}), 1,
       false, false},
      {"LBFGS", "LBFGS", factory<LBFGS>(LBFGSOptions{.max_iter = 3, .history_size = 2}), 0.1, true,
       true},
      {"LBFGS strong_wolfe", "LBFGS",
       factory<LBFGS>(
           LBFGSOptions{.max_iter = 4, .history_size = 3, .line_search_fn = "strong_wolfe"}),
       1, true, true},
  };
}

/// L = Σ c·w² + Σ w⁴/4 over each parameter, c = 1, 2, 3, ...: minimum at 0, curvature
/// differing per coordinate so every optimizer's state matters.
inline Tensor training_loss(const std::vector<Tensor>& params) {
  Tensor loss = tg::scalar(0.0, {.dtype = params.front().dtype()});
  for (const Tensor& w : params) {
    const Tensor c = tg::arange(w.numel()).to(w.dtype()) + 1.0;
    loss = loss + (c * w * w).sum() + (w * w * w * w).sum() * 0.25;
  }
  return loss;
}

}  // namespace tg::testing
