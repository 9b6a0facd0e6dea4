// ProgressBar: one epoch's progress on stderr (batches, running loss, samples/s, ETA).
//
//     ProgressBar bar("epoch 1/5", loader.size());
//     for (auto [x, y] : loader) {
//       ...
//       bar.step(x.size(0), loss.item());
//     }
//     bar.finish();
//
// On a terminal the bar redraws one line in place; when stderr is a file or a pipe (CI logs,
// ctest) it prints a plain line every ~10% of the epoch instead, so logs stay readable.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

class ProgressBar {
 public:
  /// A bar for `total_steps` steps (batches), labelled `label`; the clock starts now.
  ProgressBar(std::string label, int64_t total_steps)
      : label_(std::move(label)),
        total_(std::max<int64_t>(total_steps, 1)),
        interactive_(isatty(fileno(stderr)) != 0),
        start_(Clock::now()),
        last_draw_(start_) {}

  /// Records one finished step of `samples` samples whose mean loss was `loss`.
  void step(int64_t samples, double loss) {
    ++done_;
    samples_ += samples;
    loss_sum_ += loss * static_cast<double>(samples);
    if (interactive_) {
      // Redrawing on every batch would cost more than some batches take; 10 times a second is
      // smooth enough for the eye.
      const auto now = Clock::now();
      if (now - last_draw_ >= std::chrono::milliseconds(100) || done_ == total_) {
        last_draw_ = now;
        fmt::print(stderr, "\r{}\x1b[K", line());
        std::fflush(stderr);
      }
    } else if (done_ * 10 / total_ > reported_tenths_ && done_ < total_) {
      reported_tenths_ = done_ * 10 / total_;
      fmt::print(stderr, "{}\n", line());
    }
  }

  /// Continues an epoch resumed from a checkpoint: `steps` steps of `samples` samples with
  /// per-sample losses summing to `loss_sum` were done before (see loss_sum()).
  void resume(int64_t steps, int64_t samples, double loss_sum) {
    done_ = steps;
    samples_ = samples;
    samples_before_ = samples;
    steps_before_ = steps;
    loss_sum_ = loss_sum;
    reported_tenths_ = done_ * 10 / total_;
  }
  /// Steps so far, samples so far and the sum of their per-sample losses (for a checkpoint).
  int64_t steps() const { return done_; }
  int64_t samples() const { return samples_; }
  double loss_sum() const { return loss_sum_; }

  /// Ends the bar with its final state on its own line; returns the seconds it ran.
  double finish() {
    if (!finished_) {
      finished_ = true;
      fmt::print(stderr, "{}{}\n", interactive_ ? "\r" : "", line());
      if (interactive_) std::fflush(stderr);
    }
    return seconds();
  }

  /// Mean loss per sample over the steps so far.
  double running_loss() const {
    return samples_ > 0 ? loss_sum_ / static_cast<double>(samples_) : 0.0;
  }
  /// Seconds since the bar was created.
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;

  std::string line() const {
    const double elapsed = seconds();
    const double rate =
        elapsed > 0 ? static_cast<double>(samples_ - samples_before_) / elapsed : 0.0;
    const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
    std::string timing;
    if (done_ >= total_) {
      timing = fmt::format("{:.1f}s", elapsed);
    } else if (done_ > steps_before_) {
      timing = fmt::format("ETA {:.1f}s", elapsed * static_cast<double>(total_ - done_) /
                                              static_cast<double>(done_ - steps_before_));
    } else {
      timing = "ETA ?";
    }
    std::string bar;
    if (interactive_) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(fraction * kWidth);
      for (int i = 0; i < kWidth; ++i) bar += i < filled ? "█" : "░";
      bar += ' ';
    }
    const int digits = static_cast<int>(std::to_string(total_).size());
    return fmt::format("{} {}{:>{}}/{}  loss {:.4f}  {:>6.0f} samples/s  {}", label_, bar, done_,
                       digits, total_, running_loss(), rate, timing);
  }

  std::string label_;
  int64_t total_;
  bool interactive_;
  Clock::time_point start_;
  Clock::time_point last_draw_;
  int64_t done_ = 0;
  int64_t samples_ = 0;
  int64_t steps_before_ = 0;    // steps and samples of a resumed epoch done before this bar
  int64_t samples_before_ = 0;  // started, which the rate and the ETA leave out
  double loss_sum_ = 0;
  int64_t reported_tenths_ = 0;
  bool finished_ = false;
};
