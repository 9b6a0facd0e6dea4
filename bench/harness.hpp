// The timing harness shared by the comparison programs: CLI, per-step timing, stats, peak RSS.
// It depends on neither tapegrad nor libtorch so that every side is timed by the same code.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace bench {

/// One training step's layer sizes, batch and optimizer, or a scalar graph (chain, tiny graph).
struct Workload {
  std::string name;
  std::vector<int64_t> layers;  ///< input, hidden..., output; empty for the scalar graphs
  int64_t batch = 0;
  std::string loss;       ///< "mse", "bce_logits" or "cross_entropy"
  std::string optimizer;  ///< "sgd" or "adam"
  int64_t chain_length = 0;
};

/// The workloads of DESIGN.md's performance bar, by name.
inline std::vector<Workload> workloads() {
  return {
      {"tiny_sgd", {2, 16, 1}, 32, "mse", "sgd", 0},
      {"tiny_adam", {2, 16, 1}, 32, "mse", "adam", 0},
      {"logistic", {784, 1}, 64, "bce_logits", "sgd", 0},
      {"softmax", {784, 10}, 64, "cross_entropy", "sgd", 0},
      {"mlp128", {784, 128, 10}, 64, "cross_entropy", "sgd", 0},
      {"mlp1024", {784, 1024, 1024, 10}, 256, "cross_entropy", "sgd", 0},
      {"chain1000", {}, 0, "", "", 1000},
      // micrograd's expression on f64 0-D scalars (BurTorch's tiny-graph benchmark).
      {"tiny_graph", {}, 0, "", "", 0},
      // The Fashion-MNIST MLP's full step (bench/fashion_*.cpp) on one fixed random batch.
      {"fashion", {784, 256, 128, 10}, 128, "cross_entropy", "adam", 0},
  };
}

inline const Workload& find_workload(const std::string& name) {
  static const std::vector<Workload> all = workloads();
  for (const Workload& w : all)
    if (w.name == name) return w;
  std::fprintf(stderr, "unknown workload '%s'\n", name.c_str());
  std::exit(2);
}

/// The command line every comparison program accepts.
struct Args {
  std::string workload = "tiny_sgd";
  int threads = 1;
  int64_t steps = 1000;
  int64_t warmup = 100;
  /// "each" times every step alone; "total" reads the clock only around the whole loop, so
  /// that an instruction count (bench/count_instructions) holds the steps and nothing else.
  std::string timing = "each";
};

inline Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: %s --workload NAME --threads N --steps K --warmup W "
                   "[--timing each|total]\n",
                   argv[0]);
      std::exit(2);
    }
    std::string value = argv[++i];
    if (key == "--workload")
      args.workload = value;
    else if (key == "--threads")
      args.threads = std::atoi(value.c_str());
    else if (key == "--steps")
      args.steps = std::atoll(value.c_str());
    else if (key == "--warmup")
      args.warmup = std::atoll(value.c_str());
    else if (key == "--timing" && (value == "each" || value == "total"))
      args.timing = value;
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
  }
  if (args.steps < 1 || args.warmup < 0 || args.threads < 1) {
    std::fprintf(stderr, "--steps and --threads must be at least 1, --warmup at least 0\n");
    std::exit(2);
  }
  return args;
}

/// Peak resident set of this process in KiB: VmHWM, or ru_maxrss where /proc is absent.
inline long peak_rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

/// Per-step times in microseconds, summarised as the comparison programs report them.
struct Timing {
  double median_us = 0, p10_us = 0, p90_us = 0, mean_us = 0;
};

/// The median, 10th/90th percentiles and mean of `micros` (sorted in place; not empty).
inline Timing summarise(std::vector<double>& micros) {
  double total = 0;
  for (double t : micros) total += t;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<size_t>(q * double(micros.size() - 1))]; };
  return {at(0.5), at(0.1), at(0.9), total / double(micros.size())};
}

/// Prints the one JSON line every comparison program ends with; `extra` is appended verbatim
/// (empty, or `, "key": value...`).
inline void print_result(const char* impl, const Args& args, const Timing& timing, double check,
                         const std::string& extra = "") {
  std::printf(
      "{\"impl\": \"%s\", \"workload\": \"%s\", \"threads\": %d, \"steps\": %lld, "
      "\"median_us\": %.3f, \"p10_us\": %.3f, \"p90_us\": %.3f, \"mean_us\": %.3f, "
      "\"peak_rss_kb\": %ld, \"check\": %.6g%s}\n",
      impl, args.workload.c_str(), args.threads, static_cast<long long>(args.steps),
      timing.median_us, timing.p10_us, timing.p90_us, timing.mean_us, peak_rss_kb(), check,
      extra.c_str());
  std::fflush(stdout);
}

/// Runs `step` warmup times untimed, then `steps` times timed one by one, and prints one
/// JSON line with the median and the 10th/90th percentiles in microseconds. `check` gives a
/// value computed by the model (the last loss) so the sides can be seen to do the same work.
/// With `--timing total` the clock is read only around the whole loop and every figure is
/// the mean.
inline void run(const char* impl, const Args& args, const std::function<void()>& step,
                const std::function<double()>& check) {
  for (int64_t i = 0; i < args.warmup; ++i) step();
  using Clock = std::chrono::steady_clock;
  Timing timing;
  if (args.timing == "total") {
    auto start = Clock::now();
    for (int64_t i = 0; i < args.steps; ++i) step();
    double mean = std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                  double(args.steps);
    timing = {mean, mean, mean, mean};
  } else {
    std::vector<double> micros(static_cast<size_t>(args.steps));
    for (double& t : micros) {
      auto start = Clock::now();
      step();
      t = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    }
    timing = summarise(micros);
  }
  print_result(impl, args, timing, check());
}

}  // namespace bench
