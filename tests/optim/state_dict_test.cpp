// Optimizer and scheduler state dicts: PyTorch's entry names, bit-exact resume for every
// optimizer and scheduler, copies not aliases, and every load error changing nothing.
#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <tapegrad/autograd.hpp>
#include <tapegrad/optim.hpp>

#include "optimizer_table.hpp"
#include "support/testing.hpp"

using tg::testing::optimizer_table;
using tg::testing::param;
using tg::testing::training_loss;

namespace {

std::vector<tg::Tensor> two_params() { return {param({0.5, -1.0, 1.5}), param({2.0, -0.5})}; }

std::vector<tg::Tensor> copies(const std::vector<tg::Tensor>& params) {
  std::vector<tg::Tensor> result;
  for (const tg::Tensor& p : params) result.push_back(p.detach().clone().set_requires_grad());
  return result;
}

void run(tg::optim::Optimizer& opt, const std::vector<tg::Tensor>& params, int steps) {
  for (int k = 0; k < steps; ++k)
    opt.step([&] {
      opt.zero_grad();
      tg::Tensor loss = training_loss(params);
      loss.backward();
      return loss;
    });
}

bool same_bits(const tg::Tensor& a, const tg::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.to_vector() == b.to_vector();
}

bool same_dicts(const tg::StateDict& a, const tg::StateDict& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a)
    if (!b.contains(key) || !same_bits(value, b.at(key))) return false;
  return true;
}

std::set<std::string> keys(const tg::StateDict& dict) {
  std::set<std::string> result;
  for (const auto& [key, value] : dict) result.insert(key);
  return result;
}

}  // namespace

TEST_CASE("every optimizer resumes bit for bit from its state dict on a fresh optimizer") {
  for (const auto& row : optimizer_table()) {
    CAPTURE(row.label);
    // 8 steps straight ...
    auto straight = two_params();
    auto reference = row.make(straight, row.lr);
    run(*reference, straight, 8);
    // ... equal 4 steps, a state dict, a fresh optimizer over copies, a load and 4 more.
    auto first_half = two_params();
    auto before = row.make(first_half, row.lr);
    run(*before, first_half, 4);
    const tg::StateDict saved = before->state_dict();
    auto resumed_params = copies(first_half);
    auto resumed = row.make(resumed_params, row.lr * 3);  // the loaded options win
    resumed->load_state_dict(saved);
    CHECK(same_dicts(resumed->state_dict(), saved));
    run(*resumed, resumed_params, 4);
    for (size_t i = 0; i < straight.size(); ++i) {
      CAPTURE(i);
      CHECK(same_bits(resumed_params[i], straight[i]));
    }
    CHECK(same_dicts(resumed->state_dict(), reference->state_dict()));
  }
}

TEST_CASE("state dicts use PyTorch's names") {
  auto params = two_params();
  SUBCASE("SGD") {
    tg::optim::SGD opt(params, {.lr = 0.1, .momentum = 0.9});
    run(opt, params, 1);
    CHECK(keys(opt.state_dict()) ==
          std::set<std::string>{"param_groups.0.dampening", "param_groups.0.lr",
                                "param_groups.0.maximize", "param_groups.0.momentum",
                                "param_groups.0.nesterov", "param_groups.0.params",
                                "param_groups.0.weight_decay", "state.0.momentum_buffer",
                                "state.1.momentum_buffer", "type"});
  }
  SUBCASE("Adam with amsgrad: exact step counts, betas as a pair") {
    tg::optim::Adam opt(params, {.lr = 0.1, .amsgrad = true});
    run(opt, params, 3);
    const tg::StateDict dict = opt.state_dict();
    CHECK(keys(dict) ==
          std::set<std::string>{"param_groups.0.amsgrad", "param_groups.0.betas",
                                "param_groups.0.eps", "param_groups.0.lr", "param_groups.0.params",
                                "param_groups.0.weight_decay", "state.0.exp_avg",
                                "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.0.step",
                                "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq",
                                "state.1.step", "type"});
    CHECK(dict.at("state.0.step").dtype() == tg::i64);
    CHECK(dict.at("state.0.step").data<int64_t>()[0] == 3);
    CHECK(dict.at("param_groups.0.betas").to_vector() == std::vector<double>{0.9, 0.999});
    CHECK(dict.at("param_groups.0.amsgrad").item() == 1.0);
    CHECK(dict.at("param_groups.0.lr").dtype() == tg::f64);
    CHECK(dict.at("param_groups.0.lr").dim() == 0);
    CHECK(dict.at("param_groups.0.params").to_vector() == std::vector<double>{0, 1});
    CHECK(dict.at("state.1.exp_avg").shape() == tg::Shape{2});
  }
  SUBCASE("LBFGS: the whole history under state.0, lists as name.k") {
    tg::optim::LBFGS opt(params, {.max_iter = 3, .history_size = 2});
    run(opt, params, 2);
    const std::set<std::string> names = keys(opt.state_dict());
    for (const char* name :
         {"state.0.func_evals", "state.0.n_iter", "state.0.d", "state.0.t", "state.0.old_dirs.0",
          "state.0.old_dirs.1", "state.0.old_stps.0", "state.0.old_stps.1", "state.0.ro.0",
          "state.0.ro.1", "state.0.H_diag", "state.0.prev_flat_grad", "state.0.prev_loss",
          "param_groups.0.line_search_fn", "param_groups.0.max_eval",
          "param_groups.0.history_size"}) {
      CAPTURE(name);
      CHECK(names.contains(name));
    }
    CHECK_FALSE(names.contains("state.0.old_dirs.2"));
    CHECK(opt.state_dict().at("state.0.d").shape() == tg::Shape{5});  // the flat vector
  }
}

TEST_CASE("a loaded state is a copy: changing the dict afterwards changes nothing") {
  auto params = two_params();
  tg::optim::Adam opt(params, {.lr = 0.1});
  run(opt, params, 2);
  tg::StateDict dict = opt.state_dict();
  auto other_params = copies(params);
  tg::optim::Adam other(other_params);
  other.load_state_dict(dict);
  const tg::StateDict loaded = other.state_dict();
  for (auto& [key, value] : dict) value.fill_(7);
  CHECK(same_dicts(other.state_dict(), loaded));
  CHECK(other.state(0).exp_avg.data<double>() != dict.at("state.0.exp_avg").data<double>());
}

TEST_CASE("a bad state dict throws naming the entry and leaves the optimizer as it was") {
  auto params = two_params();
  tg::optim::Adam opt(params, {.lr = 0.1, .amsgrad = true});
  run(opt, params, 2);
  const tg::StateDict good = opt.state_dict();
  const std::vector<double> values = params[0].to_vector();

  auto check_unchanged_after = [&](const tg::StateDict& bad, const char* fragment) {
    TG_CHECK_ERROR(opt.load_state_dict(bad), "Adam: load_state_dict:", fragment);
    CHECK(same_dicts(opt.state_dict(), good));
    CHECK(params[0].to_vector() == values);
  };
  SUBCASE("another optimizer type, AdamW included") {
    auto adamw_params = copies(params);
    tg::optim::AdamW adamw(adamw_params, {.lr = 0.1, .amsgrad = true});
    run(adamw, adamw_params, 1);
    check_unchanged_after(adamw.state_dict(), "entry type is \"AdamW\", expected \"Adam\"");
    tg::optim::SGD sgd(copies(params));
    check_unchanged_after(sgd.state_dict(), "entry type is \"SGD\"");
    tg::StateDict untyped = good;
    untyped.erase("type");
    check_unchanged_after(untyped, "missing entry type");
  }
  SUBCASE("another parameter count") {
    auto more = two_params();
    more.push_back(param({1.0}));
    tg::optim::Adam bigger(more, {.lr = 0.1, .amsgrad = true});
    run(bigger, more, 1);
    check_unchanged_after(bigger.state_dict(),
                          "entry param_groups.0.params is i64 [3], expected i64 [2]");
    tg::optim::Adam smaller({param({1.0})}, {.lr = 0.1, .amsgrad = true});
    check_unchanged_after(smaller.state_dict(), "param_groups.0.params is i64 [1]");
  }
  SUBCASE("another group layout") {
    auto split = copies(params);
    tg::optim::Adam grouped({{.params = {split[0]}, .options = {.lr = 0.1, .amsgrad = true}},
                             {.params = {split[1]}, .options = {.lr = 0.1, .amsgrad = true}}});
    run(grouped, split, 1);
    check_unchanged_after(grouped.state_dict(), "param_groups.0.params is i64 [1]");
    tg::StateDict extra_group = good;
    extra_group["param_groups.1.lr"] = tg::scalar(0.1, {.dtype = tg::f64});
    check_unchanged_after(extra_group, "unexpected entry param_groups.1.lr");
  }
  SUBCASE("a buffer of another shape or dtype") {
    tg::StateDict wrong_shape = good;
    wrong_shape["state.1.exp_avg"] = tg::zeros({3}, {.dtype = tg::f64});
    check_unchanged_after(wrong_shape, "entry state.1.exp_avg is f64 [3], expected f64 [2]");
    tg::StateDict wrong_dtype = good;
    wrong_dtype["state.0.exp_avg_sq"] = tg::zeros({3}, {.dtype = tg::f32});
    check_unchanged_after(wrong_dtype, "entry state.0.exp_avg_sq is f32 [3], expected f64 [3]");
    tg::StateDict wrong_step = good;
    wrong_step["state.0.step"] = tg::scalar(2.0, {.dtype = tg::f64});
    check_unchanged_after(wrong_step, "entry state.0.step is f64 [], expected i64 []");
  }
  SUBCASE("a missing or an extra entry, an invalid option") {
    tg::StateDict missing = good;
    missing.erase("state.1.step");
    check_unchanged_after(missing, "missing entry state.1.step");
    tg::StateDict no_eps = good;
    no_eps.erase("param_groups.0.eps");
    check_unchanged_after(no_eps, "missing entry param_groups.0.eps");
    tg::StateDict extra = good;
    extra["state.0.momentum_buffer"] = tg::zeros({3}, {.dtype = tg::f64});
    check_unchanged_after(extra, "unexpected entry state.0.momentum_buffer");
    tg::StateDict beyond = good;
    beyond["state.2.step"] = good.at("state.0.step");
    check_unchanged_after(beyond, "unexpected entry state.2.step");
    tg::StateDict bad_beta = good;
    bad_beta["param_groups.0.betas"] = tg::tensor({0.9, 1.5}, {.dtype = tg::f64});
    check_unchanged_after(bad_beta, "Adam: invalid beta2 1.5");
    tg::StateDict bad_bool = good;
    bad_bool["param_groups.0.amsgrad"] = tg::scalar(0.5, {.dtype = tg::f64});
    check_unchanged_after(bad_bool, "entry param_groups.0.amsgrad is 0.5, expected 0 or 1");
  }
}

TEST_CASE("a bad LBFGS history throws and changes nothing") {
  auto params = two_params();
  tg::optim::LBFGS opt(params, {.max_iter = 3, .history_size = 2});
  run(opt, params, 2);
  const tg::StateDict good = opt.state_dict();
  tg::StateDict uneven = good;
  uneven.erase("state.0.ro.1");
  TG_CHECK_ERROR(opt.load_state_dict(uneven),
                 "LBFGS: load_state_dict:", "2 old_dirs, 2 old_stps and 1 ro");
  tg::StateDict short_direction = good;
  short_direction["state.0.d"] = tg::zeros({4}, {.dtype = tg::f64});
  TG_CHECK_ERROR(opt.load_state_dict(short_direction),
                 "entry state.0.d is f64 [4], expected f64 [5]");
  tg::StateDict no_direction = good;
  no_direction.erase("state.0.d");
  TG_CHECK_ERROR(opt.load_state_dict(no_direction), "state.0 has n_iter",
                 "but no d or prev_flat_grad");
  tg::StateDict bad_search = good;
  bad_search["param_groups.0.line_search_fn"] = tg::tensor({98.0}, {.dtype = tg::i64});
  TG_CHECK_ERROR(opt.load_state_dict(bad_search), "invalid line_search_fn \"b\"");
  CHECK(same_dicts(opt.state_dict(), good));
}

// ---- Schedulers

namespace {

struct SchedulerRun {
  std::vector<tg::Tensor> params;
  std::unique_ptr<tg::optim::Optimizer> opt;
};

SchedulerRun sgd_run() {
  SchedulerRun r{two_params(), nullptr};
  r.opt =
      std::make_unique<tg::optim::SGD>(r.params, tg::optim::SGDOptions{.lr = 0.1, .momentum = 0.5});
  return r;
}

}  // namespace

TEST_CASE("every epoch scheduler resumes bit for bit from its state dict") {
  using Make = std::function<std::unique_ptr<tg::optim::LRScheduler>(tg::optim::Optimizer&)>;
  const std::vector<std::pair<std::string, Make>> schedulers = {
      {"StepLR",
       [](auto& o) {
         return std::make_unique<tg::optim::StepLR>(
             o, tg::optim::StepLROptions{.step_size = 2, .gamma = 0.5});
       }},
      {"ExponentialLR",
       [](auto& o) {
         return std::make_unique<tg::optim::ExponentialLR>(
             o, tg::optim::ExponentialLROptions{.gamma = 0.9});
       }},
      {"CosineAnnealingLR",
       [](auto& o) {
         return std::make_unique<tg::optim::CosineAnnealingLR>(
             o, tg::optim::CosineAnnealingLROptions{.T_max = 5, .eta_min = 0.01});
       }},
      {"LinearLR",
       [](auto& o) {
         return std::make_unique<tg::optim::LinearLR>(
             o, tg::optim::LinearLROptions{.start_factor = 0.25, .total_iters = 6});
       }},
  };
  for (const auto& [name, make] : schedulers) {
    CAPTURE(name);
    SchedulerRun straight = sgd_run();
    auto reference = make(*straight.opt);
    for (int epoch = 0; epoch < 8; ++epoch) {
      run(*straight.opt, straight.params, 1);
      reference->step();
    }
    SchedulerRun first = sgd_run();
    auto scheduler = make(*first.opt);
    for (int epoch = 0; epoch < 3; ++epoch) {  // LinearLR is mid warm-up here
      run(*first.opt, first.params, 1);
      scheduler->step();
    }
    const tg::StateDict opt_state = first.opt->state_dict();
    const tg::StateDict scheduler_state = scheduler->state_dict();
    CHECK(scheduler_state.at("last_epoch").data<int64_t>()[0] == 3);
    CHECK(scheduler_state.at("base_lrs").to_vector() == std::vector<double>{0.1});

    SchedulerRun resumed{copies(first.params), nullptr};
    resumed.opt =
        std::make_unique<tg::optim::SGD>(resumed.params, tg::optim::SGDOptions{.lr = 0.7});
    auto resumed_scheduler = make(*resumed.opt);
    resumed.opt->load_state_dict(opt_state);
    resumed_scheduler->load_state_dict(scheduler_state);
    CHECK(resumed_scheduler->last_epoch() == 3);
    CHECK(resumed_scheduler->base_lrs() == std::vector<double>{0.1});
    for (int epoch = 3; epoch < 8; ++epoch) {
      run(*resumed.opt, resumed.params, 1);
      resumed_scheduler->step();
    }
    CHECK(resumed.opt->lr() == reference->last_lr());
    CHECK(resumed_scheduler->last_lrs() == reference->last_lrs());
    for (size_t i = 0; i < 2; ++i) CHECK(same_bits(resumed.params[i], straight.params[i]));
  }
}

TEST_CASE("a bad scheduler state dict throws naming the entry and changes nothing") {
  SchedulerRun r = sgd_run();
  tg::optim::StepLR scheduler(*r.opt, {.step_size = 2});
  scheduler.step();
  const tg::StateDict good = scheduler.state_dict();
  tg::optim::ExponentialLR other(*r.opt, {.gamma = 0.5});
  TG_CHECK_ERROR(scheduler.load_state_dict(other.state_dict()),
                 "StepLR: load_state_dict: entry type is \"ExponentialLR\", expected \"StepLR\"");
  tg::StateDict two_groups = good;
  two_groups["base_lrs"] = tg::tensor({0.1, 0.1}, {.dtype = tg::f64});
  TG_CHECK_ERROR(scheduler.load_state_dict(two_groups),
                 "entry base_lrs is f64 [2], expected f64 [1]");
  tg::StateDict missing = good;
  missing.erase("last_epoch");
  TG_CHECK_ERROR(scheduler.load_state_dict(missing), "missing entry last_epoch");
  tg::StateDict extra = good;
  extra["best"] = tg::scalar(1.0, {.dtype = tg::f64});
  TG_CHECK_ERROR(scheduler.load_state_dict(extra), "unexpected entry best");
  CHECK(same_dicts(scheduler.state_dict(), good));
}

TEST_CASE("ReduceLROnPlateau resumes mid-cooldown bit for bit") {
  const tg::optim::ReduceLROnPlateauOptions options{
      .factor = 0.5, .patience = 1, .threshold = 0.01, .cooldown = 3};
  const std::vector<double> metrics = {5, 4, 4, 4, 4, 4, 3.5, 3.5, 3.5, 3.5, 3.5, 3.5};
  SchedulerRun straight = sgd_run();
  tg::optim::ReduceLROnPlateau reference(*straight.opt, options);
  for (double metric : metrics) {
    run(*straight.opt, straight.params, 1);
    reference.step(metric);
  }
  SchedulerRun first = sgd_run();
  tg::optim::ReduceLROnPlateau scheduler(*first.opt, options);
  for (size_t k = 0; k < 5; ++k) {
    run(*first.opt, first.params, 1);
    scheduler.step(metrics[k]);
  }
  // 4, 4 are bad epochs 1 and 2 > patience 1: a reduction at k = 3, then cooldown 3 left.
  REQUIRE(first.opt->lr() == 0.05);
  REQUIRE(scheduler.cooldown_counter() == 2);
  const tg::StateDict opt_state = first.opt->state_dict();
  const tg::StateDict scheduler_state = scheduler.state_dict();
  CHECK(scheduler_state.at("best").item() == 4.0);
  CHECK(scheduler_state.at("cooldown_counter").data<int64_t>()[0] == 2);

  SchedulerRun resumed{copies(first.params), nullptr};
  resumed.opt = std::make_unique<tg::optim::SGD>(resumed.params, tg::optim::SGDOptions{.lr = 0.1});
  tg::optim::ReduceLROnPlateau resumed_scheduler(*resumed.opt);  // other options: loaded too
  resumed.opt->load_state_dict(opt_state);
  resumed_scheduler.load_state_dict(scheduler_state);
  CHECK(resumed_scheduler.cooldown_counter() == 2);
  for (size_t k = 5; k < metrics.size(); ++k) {
    run(*resumed.opt, resumed.params, 1);
    resumed_scheduler.step(metrics[k]);
  }
  CHECK(resumed.opt->lr() == reference.last_lr());
  CHECK(resumed_scheduler.best() == reference.best());
  CHECK(resumed_scheduler.num_bad_epochs() == reference.num_bad_epochs());
  CHECK(resumed_scheduler.cooldown_counter() == reference.cooldown_counter());
  CHECK(same_dicts(resumed_scheduler.state_dict(), reference.state_dict()));
  for (size_t i = 0; i < 2; ++i) CHECK(same_bits(resumed.params[i], straight.params[i]));

  SUBCASE("a bad plateau state throws and changes nothing") {
    const tg::StateDict before = resumed_scheduler.state_dict();
    tg::StateDict bad_mode = before;
    bad_mode["mode"] = tg::tensor({109.0, 105.0, 100.0}, {.dtype = tg::i64});  // "mid"
    TG_CHECK_ERROR(resumed_scheduler.load_state_dict(bad_mode),
                   "ReduceLROnPlateau: load_state_dict:", "invalid mode \"mid\"");
    tg::StateDict no_best = before;
    no_best.erase("best");
    TG_CHECK_ERROR(resumed_scheduler.load_state_dict(no_best), "missing entry best");
    CHECK(same_dicts(resumed_scheduler.state_dict(), before));
  }
}
