// Trains a small model with Dropout and a shuffling DataLoader, straight or in two processes
// joined by a checkpoint, and compares the results bit for bit: the resume-equality table.
//
//   resume_helper table DIR            every optimizer × scheduler; exit 1 unless all max |Δ| = 0
//   resume_helper run OPT SCHED FROM TO CHECKPOINT_IN|- OUT   (one leg, used by `table`)
//   resume_helper run-mid OPT SCHED CHECKPOINT_IN|- OUT STOP  (a leg with the loader in the
//        checkpoint: to the end, or with STOP > 0 a checkpoint after batch STOP, then SIGKILL)
//   resume_helper write-checkpoint PATH                        (for the Python reader test)
//   resume_helper write-fuzz-seeds DIR      valid checkpoints for tests/fuzz's checkpoint_load
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <tapegrad.hpp>
#include <vector>

extern char** environ;

namespace {

constexpr int kEpochs = 6;  // a checkpoint after epoch 3 of 6
constexpr int64_t kSamples = 24, kBatch = 8;
// ReduceLROnPlateau's metric by epoch: epoch 2 improves, epoch 3 does not and (patience 0)
// reduces the lr and starts a cooldown of 2, so the checkpoint falls mid-cooldown; the
// reduction at epoch 6 happens only if the best value and the cooldown counter were restored.
constexpr double kPlateauMetric[kEpochs] = {1.0, 0.9, 0.95, 0.97, 0.96, 0.99};

const std::vector<std::string> kOptimizers = {
    "sgd_momentum", "sgd_nesterov_decay", "adagrad", "rmsprop_centered_momentum", "adam_amsgrad",
    "adamw",        "lbfgs_strong_wolfe"};
const std::vector<std::string> kSchedulers = {"none",   "step",   "exponential",
                                              "cosine", "linear", "plateau"};
// The killed-mid-epoch column: the plateau scheduler (the most state) and a kill after the
// 11th of 18 batches, the second of epoch 3's three.
constexpr const char* kKilledScheduler = "plateau";
constexpr int64_t kKillAfterBatch = 11;

std::unique_ptr<tg::optim::Optimizer> make_optimizer(const std::string& name,
                                                     std::vector<tg::Tensor> params) {
  namespace optim = tg::optim;
  if (name == "sgd_momentum")
    return std::make_unique<optim::SGD>(params, optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  if (name == "sgd_nesterov_decay")
    return std::make_unique<optim::SGD>(
        params,
        optim::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-2, .nesterov = true});
  if (name == "adagrad")
    return std::make_unique<optim::Adagrad>(params,
                                            optim::AdagradOptions{.lr = 0.1, .lr_decay = 1e-3});
  if (name == "rmsprop_centered_momentum")
    return std::make_unique<optim::RMSprop>(
        params, optim::RMSpropOptions{.lr = 1e-2, .momentum = 0.5, .centered = true});
  if (name == "adam_amsgrad")
    return std::make_unique<optim::Adam>(params, optim::AdamOptions{.lr = 1e-2, .amsgrad = true});
  if (name == "adamw")
    return std::make_unique<optim::AdamW>(params, optim::AdamWOptions{.lr = 1e-2});
  if (name == "lbfgs_strong_wolfe")
    return std::make_unique<optim::LBFGS>(
        params, optim::LBFGSOptions{.lr = 1, .max_iter = 4, .line_search_fn = "strong_wolfe"});
  throw tg::Error("resume_helper: unknown optimizer " + name);
}

// The scheduler, owned, behind a SchedulerRef; `step` advances it one epoch.
struct Scheduler {
  std::unique_ptr<tg::optim::LRScheduler> epoch_driven;
  std::unique_ptr<tg::optim::ReduceLROnPlateau> plateau;
  tg::SchedulerRef ref() const {
    if (epoch_driven) return epoch_driven.get();
    if (plateau) return plateau.get();
    return nullptr;
  }
  void step(int epoch) {
    if (epoch_driven) epoch_driven->step();
    if (plateau) plateau->step(kPlateauMetric[epoch]);
  }
};

Scheduler make_scheduler(const std::string& name, tg::optim::Optimizer& optimizer) {
  namespace optim = tg::optim;
  Scheduler s;
  if (name == "step")
    s.epoch_driven = std::make_unique<optim::StepLR>(
        optimizer, optim::StepLROptions{.step_size = 2, .gamma = 0.5});
  if (name == "exponential")
    s.epoch_driven = std::make_unique<optim::ExponentialLR>(
        optimizer, optim::ExponentialLROptions{.gamma = 0.8});
  if (name == "cosine")
    s.epoch_driven = std::make_unique<optim::CosineAnnealingLR>(
        optimizer, optim::CosineAnnealingLROptions{.T_max = kEpochs});
  // total_iters 5: the checkpoint after epoch 3 falls in the middle of the warm-up.
  if (name == "linear")
    s.epoch_driven = std::make_unique<optim::LinearLR>(
        optimizer, optim::LinearLROptions{.start_factor = 0.25, .total_iters = 5});
  if (name == "plateau")
    s.plateau = std::make_unique<optim::ReduceLROnPlateau>(
        optimizer, optim::ReduceLROnPlateauOptions{.factor = 0.5, .patience = 0, .cooldown = 2});
  return s;
}

// Everything a run is made of, built in the same order in every process: the generator's
// draws (data, initial weights, the loader's seed) line up only if construction does.
struct Seeded {
  Seeded() { tg::manual_seed(7); }
};

struct Run {
  Seeded seeded;
  tg::Tensor x, y;
  tg::nn::Sequential model;
  tg::data::DataLoader loader;
  std::unique_ptr<tg::optim::Optimizer> optimizer;
  Scheduler scheduler;
  std::string optimizer_name;

  Run(const std::string& optimizer_name_, const std::string& scheduler_name)
      : x(tg::randn({kSamples, 4})),
        y(tg::randint(0, 3, {kSamples})),
        model(tg::nn::Linear(4, 8), tg::nn::Tanh(), tg::nn::Dropout(0.25), tg::nn::Linear(8, 3)),
        loader(tg::data::TensorDataset(x, y), {.batch_size = kBatch, .shuffle = true}),
        optimizer(make_optimizer(optimizer_name_, model.parameters())),
        scheduler(make_scheduler(scheduler_name, *optimizer)),
        optimizer_name(optimizer_name_) {}

  void train_step(const tg::Tensor& inputs, const tg::Tensor& targets) {
    auto closure = [&] {
      optimizer->zero_grad();
      tg::Tensor loss = tg::F::cross_entropy(model(inputs), targets);
      loss.backward();
      return loss;
    };
    if (optimizer_name == "lbfgs_strong_wolfe") {
      optimizer->step(closure);
    } else {
      closure();
      optimizer->step();
    }
  }

  void train_epoch(int epoch) {
    for (auto [inputs, targets] : loader) train_step(inputs, targets);
    scheduler.step(epoch);
  }

  tg::CheckpointParts parts() { return {.scheduler = scheduler.ref(), .loader = &loader}; }
};

// One leg: epochs [from, to), starting from a checkpoint unless `input` is "-"; writes the
// final state as a checkpoint, so that every part (not just the parameters) can be compared.
int run_leg(const std::string& optimizer_name, const std::string& scheduler_name, int from, int to,
            const std::string& input, const std::string& output) {
  Run run(optimizer_name, scheduler_name);
  if (input != "-") {
    const tg::Metadata metadata =
        tg::load_checkpoint(input, run.model, *run.optimizer, run.scheduler.ref());
    if (std::stoi(metadata.at("epoch")) != from)
      throw tg::Error(fmt::format("resume_helper: {} holds epoch {}, not {}", input,
                                  metadata.at("epoch"), from));
    run.loader.set_epoch(from);
  }
  for (int epoch = from; epoch < to; ++epoch) run.train_epoch(epoch);
  tg::save_checkpoint(output, run.model, *run.optimizer, run.scheduler.ref(),
                      {{"epoch", std::to_string(to)}});
  return 0;
}

// A leg whose checkpoints hold the loader's position: the epoch and batch to start at come from
// the checkpoint alone (no set_epoch). With stop > 0 it writes a checkpoint after its stop-th
// batch overall, in the middle of the loop, and kills itself with SIGKILL, as `kill -9` would.
int run_mid(const std::string& optimizer_name, const std::string& scheduler_name,
            const std::string& input, const std::string& output, int64_t stop) {
  Run run(optimizer_name, scheduler_name);
  if (input != "-") tg::load_checkpoint(input, run.model, *run.optimizer, run.parts());
  int64_t done = run.loader.epoch() * run.loader.size() + run.loader.next_batch();
  for (int64_t epoch = run.loader.epoch(); epoch < kEpochs; ++epoch) {
    for (auto [inputs, targets] : run.loader) {
      run.train_step(inputs, targets);
      if (++done == stop) {
        tg::save_checkpoint(output, run.model, *run.optimizer, run.parts());
        std::raise(SIGKILL);
      }
    }
    run.scheduler.step(static_cast<int>(epoch));
  }
  tg::save_checkpoint(output, run.model, *run.optimizer, run.parts());
  return 0;
}

// Runs this program again with `arguments`, in a new process; its wait status.
int spawn_self(const std::vector<std::string>& arguments) {
  std::vector<std::string> all = {"/proc/self/exe"};
  all.insert(all.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : all) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  return waitpid(pid, &status, 0) == pid ? status : -1;
}

// Runs this program again with `arguments`, in a new process; true if it exits 0.
bool run_self(const std::vector<std::string>& arguments) {
  const int status = spawn_self(arguments);
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs a leg that must die of SIGKILL; true if it did.
bool run_self_killed(const std::vector<std::string>& arguments) {
  const int status = spawn_self(arguments);
  return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

double as_double(const tg::Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case tg::DType::f32:
      return t.data<float>()[i];
    case tg::DType::f64:
      return t.data<double>()[i];
    case tg::DType::i64:
      return static_cast<double>(t.data<int64_t>()[i]);
  }
  return 0;
}

// Equal dtype, shape and bytes (i64 compared as integers, not through doubles).
bool same_bits(const tg::Tensor& a, const tg::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::ranges::equal(tg::raw_bytes(a), tg::raw_bytes(b));
}

// The largest |Δ| over the model's parameters of two final checkpoints, and whether every entry
// (optimizer, scheduler, loader and generator state too) is bit-identical.
std::pair<double, bool> compare(const std::string& straight_path, const std::string& resumed_path) {
  const tg::StateDict straight = tg::load(straight_path);
  const tg::StateDict resumed = tg::load(resumed_path);
  double max_delta = 0;
  bool state_equal = straight.size() == resumed.size();
  for (const auto& [name, tensor] : straight) {
    const auto found = resumed.find(name);
    if (found == resumed.end() || !same_bits(tensor, found->second)) {
      state_equal = false;
      if (found == resumed.end() || found->second.shape() != tensor.shape()) continue;
    }
    if (name.starts_with("model."))
      for (int64_t i = 0; i < tensor.numel(); ++i)
        max_delta =
            std::max(max_delta, std::abs(as_double(tensor, i) - as_double(found->second, i)));
  }
  return {max_delta, state_equal};
}

std::string cell(std::pair<double, bool> result) {
  return result.second ? fmt::format("{:g}", result.first)
                       : fmt::format("{:g} state!", result.first);
}

int table(const std::string& directory) {
  fmt::print("resume after epoch 3 of {} in a new process vs {} epochs straight\n", kEpochs,
             kEpochs);
  fmt::print(
      "max |Δ| over every parameter; 'state' says whether optimizer, scheduler and\n"
      "generator state also match bit for bit\n"
      "killed mid-epoch: {} scheduler, the loader's position in the checkpoint; a checkpoint\n"
      "after batch {} of {} ({} of epoch 4's {}), SIGKILL, then a new process resumes from it\n"
      "with no set_epoch\n\n",
      kKilledScheduler, kKillAfterBatch, kEpochs * kSamples / kBatch,
      kKillAfterBatch - 3 * (kSamples / kBatch), kSamples / kBatch);
  fmt::print("{:<27}", "optimizer \\ scheduler");
  for (const std::string& s : kSchedulers) fmt::print("{:>13}", s);
  fmt::print("{:>18}\n", "killed mid-epoch");
  bool all_equal = true;
  for (const std::string& o : kOptimizers) {
    fmt::print("{:<27}", o);
    for (const std::string& s : kSchedulers) {
      const std::string base = fmt::format("{}/{}_{}", directory, o, s);
      const bool ran =
          run_self({"run", o, s, "0", std::to_string(kEpochs), "-", base + ".straight"}) &&
          run_self({"run", o, s, "0", "3", "-", base + ".half"}) &&
          run_self({"run", o, s, "3", std::to_string(kEpochs), base + ".half", base + ".resumed"});
      if (!ran) {
        fmt::print("{:>13}", "FAILED");
        all_equal = false;
        continue;
      }
      const auto result = compare(base + ".straight", base + ".resumed");
      if (result.first != 0 || !result.second) all_equal = false;
      fmt::print("{:>13}", cell(result));
    }
    // The last column: the loader's position in the checkpoint, a leg killed with SIGKILL right
    // after the checkpoint it takes in the middle of epoch 3, resumed with no set_epoch.
    const std::string base = fmt::format("{}/{}_killed", directory, o);
    const std::string stop = std::to_string(kKillAfterBatch);
    const bool ran =
        run_self({"run-mid", o, kKilledScheduler, "-", base + ".straight", "0"}) &&
        run_self_killed({"run-mid", o, kKilledScheduler, "-", base + ".mid", stop}) &&
        run_self({"run-mid", o, kKilledScheduler, base + ".mid", base + ".resumed", "0"});
    if (!ran) {
      fmt::print("{:>18}", "FAILED");
      all_equal = false;
    } else {
      const auto result = compare(base + ".straight", base + ".resumed");
      if (result.first != 0 || !result.second) all_equal = false;
      fmt::print("{:>18}", cell(result));
    }
    fmt::print("\n");
  }
  fmt::print("\n{}\n", all_equal ? "every resumed run equals its straight run bit for bit"
                                 : "RESUMED RUNS DIFFER");
  return all_equal ? 0 : 1;
}

// The fuzz target's objects (tests/fuzz/checkpoint_load_fuzz.cpp builds the same), saved fresh,
// after steps, without a scheduler and with SGD, so that fuzzing starts from files that load.
int write_fuzz_seeds(const std::string& directory) {
  tg::manual_seed(1);
  tg::nn::Sequential model(tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2));
  tg::optim::Adam adam(model.parameters(), {.lr = 0.01});
  tg::optim::StepLR scheduler(adam, {.step_size = 1});
  tg::save_checkpoint(directory + "/valid_fresh", model, adam, &scheduler, {{"epoch", "0"}});
  for (int i = 0; i < 2; ++i) {
    adam.zero_grad();
    tg::F::mse_loss(model(tg::randn({5, 3})), tg::randn({5, 2})).backward();
    adam.step();
    scheduler.step();
  }
  tg::save_checkpoint(directory + "/valid_trained", model, adam, &scheduler, {{"epoch", "2"}});
  tg::save_checkpoint(directory + "/no_scheduler", model, adam);
  tg::optim::SGD sgd(model.parameters(), {.lr = 0.1, .momentum = 0.9});
  tg::save_checkpoint(directory + "/other_optimizer", model, sgd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "table") return table(args[1]);
    if (args.size() == 7 && args[0] == "run")
      return run_leg(args[1], args[2], std::stoi(args[3]), std::stoi(args[4]), args[5], args[6]);
    if (args.size() == 6 && args[0] == "run-mid")
      return run_mid(args[1], args[2], args[3], args[4], std::stoll(args[5]));
    if (args.size() == 2 && args[0] == "write-checkpoint") {
      Run run("adam_amsgrad", "linear");
      run.train_epoch(0);
      tg::save_checkpoint(args[1], run.model, *run.optimizer, run.scheduler.ref(),
                          {{"epoch", "1"}});
      return 0;
    }
    if (args.size() == 2 && args[0] == "write-fuzz-seeds") return write_fuzz_seeds(args[1]);
    fmt::print(
        stderr,
        "usage: resume_helper table DIR | run OPT SCHED FROM TO IN|- OUT | run-mid OPT SCHED "
        "IN|- OUT STOP | write-checkpoint PATH | write-fuzz-seeds DIR\n");
    return 2;
  } catch (const std::exception& error) {
    fmt::print(stderr, "resume_helper: {}\n", error.what());
    return 1;
  }
}
