// Seeing the tape: printing the recorded ops, Graphviz export, and anomaly detection.
#pragma once

#include <string>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::autograd {

/// What format_tape and to_dot show besides ops and shapes.
struct TapeFormatOptions {
  bool values = true;     ///< each record's output value (kept under a TapeInspectionGuard)
  bool gradients = true;  ///< the gradient that reached each record and leaf in backward
};

/// The records behind `output`, in tape order: index, op, inputs, output shape and dtype; with
/// a TapeInspectionGuard alive while recording and running backward, also every value and
/// every incoming gradient — the chain rule made visible.
///
///     tg::autograd::TapeInspectionGuard inspect;
///     auto loss = ...; loss.backward({.retain_graph = true});
///     std::cout << tg::autograd::format_tape(loss);
std::string format_tape(const Tensor& output, const TapeFormatOptions& options = {});

/// The same graph as Graphviz DOT (render with `dot -Tsvg`).
std::string to_dot(const Tensor& output, const TapeFormatOptions& options = {});

/// True while a TapeInspectionGuard is alive on this thread.
bool is_inspecting_tape();

/// RAII: records made while one is alive keep their output values, and backward keeps the
/// gradient that reaches each record, for format_tape and to_dot. Costs memory; for learning.
struct TapeInspectionGuard {
  TapeInspectionGuard();
  ~TapeInspectionGuard();
  TapeInspectionGuard(const TapeInspectionGuard&) = delete;
  TapeInspectionGuard& operator=(const TapeInspectionGuard&) = delete;

 private:
  bool previous_;
};

/// Anomaly mode: the first op whose forward or backward produces NaN or Inf throws tg::Error
/// naming the op (and, for backward, the record and the forward op that fed it).
void set_detect_anomaly(bool enabled);
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
