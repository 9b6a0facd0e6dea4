// What bench/lstm_tapegrad.cpp and bench/lstm_libtorch.cpp share: the command line, the
// deterministic fill of every tensor, the per-phase clock and the report. Depends on neither
// library, so that both sides are fed and timed by the same code.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace bench {

/// `--steps 1024 --repeats 7 --width 16`.
struct LstmArgs {
  int64_t steps = 1024, repeats = 7, width = 16;
};

inline LstmArgs parse_lstm_args(int argc, char** argv) {
  LstmArgs args;
  for (int a = 1; a + 1 < argc; a += 2) {
    if (std::strcmp(argv[a], "--steps") == 0) args.steps = std::atoll(argv[a + 1]);
    if (std::strcmp(argv[a], "--repeats") == 0) args.repeats = std::atoll(argv[a + 1]);
    if (std::strcmp(argv[a], "--width") == 0) args.width = std::atoll(argv[a + 1]);
  }
  return args;
}

/// The values of one tensor: a fixed pattern per `seed`, so both sides compute the same loss.
inline std::vector<double> lstm_pattern(int64_t width, double scale, int64_t seed) {
  std::vector<double> values(static_cast<size_t>(width));
  for (int64_t i = 0; i < width; ++i)
    values[static_cast<size_t>(i)] =
        scale * std::sin(0.917 * static_cast<double>(seed) + 1.733 * static_cast<double>(i));
  return values;
}

/// Milliseconds `body` takes.
template <class Body>
double time_ms(Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

/// One round's four phases, in milliseconds.
struct LstmRound {
  double nograd = 0, record = 0, backward = 0, teardown = 0;
};

inline double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Prints the median of each phase and the gradient's cost over the no-grad forward's; fails
/// when the recorded and the no-grad forward disagree.
inline int report_lstm(const LstmArgs& args, double nograd_value, double loss_value,
                       const std::vector<LstmRound>& rounds) {
  if (nograd_value != loss_value) {
    std::fprintf(stderr, "the two forwards disagree: %.17g vs %.17g\n", nograd_value, loss_value);
    return 1;
  }
  auto median_phase = [&](double LstmRound::*phase) {
    std::vector<double> v;
    for (const LstmRound& r : rounds) v.push_back(r.*phase);
    return median_of(v);
  };
  const double nograd = median_phase(&LstmRound::nograd), record = median_phase(&LstmRound::record);
  const double backward = median_phase(&LstmRound::backward);
  const double teardown = median_phase(&LstmRound::teardown);
  std::printf("lstm 2x%lld, %lld steps, loss %.12g, median of %lld runs (ms):\n",
              static_cast<long long>(args.width), static_cast<long long>(args.steps), loss_value,
              static_cast<long long>(args.repeats));
  std::printf("  no-grad forward    %9.3f\n", nograd);
  std::printf("  forward, recording %9.3f\n", record);
  std::printf("  backward           %9.3f\n", backward);
  std::printf("  teardown           %9.3f\n", teardown);
  std::printf("  gradient / no-grad forward: %.2fx\n", (record + backward + teardown) / nograd);
  return 0;
}

}  // namespace bench
