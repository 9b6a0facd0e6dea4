// Anomaly mode: the first op whose forward or backward produces NaN or Inf throws.
#pragma once

namespace tg::autograd {

/// Anomaly mode: the first op whose forward or backward produces NaN or Inf throws tg::Error
/// naming the op (and, for backward, the record and the forward op that fed it).
void set_detect_anomaly(bool enabled);
/// True while anomaly mode is on (for every thread).
bool is_anomaly_enabled();

/// RAII form of set_detect_anomaly(true).
struct DetectAnomalyGuard {
  DetectAnomalyGuard() : previous_(is_anomaly_enabled()) { set_detect_anomaly(true); }
  ~DetectAnomalyGuard() { set_detect_anomaly(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tg::autograd
