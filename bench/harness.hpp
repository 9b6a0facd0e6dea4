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

/// One training step's layer sizes, batch and optimizer, or the scalar chain.
struct Workload {
  std::string name;
  std::vector<int64_t> layers;  ///< input, hidden..., output; empty for the chain
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
};

inline Args parse_args(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s --workload NAME --threads N --steps K --warmup W\n", argv[0]);
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
    else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      std::exit(2);
    }
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

/// Runs `step` warmup times untimed, then `steps` times timed one by one, and prints one
/// JSON line with the median and the 10th/90th percentiles in microseconds. `check` gives a
/// value computed by the model (the last loss) so the sides can be seen to do the same work.
inline void run(const char* impl, const Args& args, const std::function<void()>& step,
                const std::function<double()>& check) {
  for (int64_t i = 0; i < args.warmup; ++i) step();
  std::vector<double> micros(static_cast<size_t>(args.steps));
  using Clock = std::chrono::steady_clock;
  for (double& t : micros) {
    auto start = Clock::now();
    step();
    t = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  }
  double total = 0;
  for (double t : micros) total += t;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<size_t>(q * double(micros.size() - 1))]; };
  std::printf(
      "{\"impl\": \"%s\", \"workload\": \"%s\", \"threads\": %d, \"steps\": %lld, "
      "\"median_us\": %.3f, \"p10_us\": %.3f, \"p90_us\": %.3f, \"mean_us\": %.3f, "
      "\"peak_rss_kb\": %ld, \"check\": %.6g}\n",
      impl, args.workload.c_str(), args.threads, static_cast<long long>(args.steps), at(0.5),
      at(0.1), at(0.9), total / double(micros.size()), peak_rss_kb(), check());
  std::fflush(stdout);
}

}  // namespace bench
