// Anomaly mode: the switch and the check of every forward's output for NaN and Inf.
#include "tapegrad/autograd/anomaly.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cmath>

#include "record.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::autograd {
namespace {
std::atomic<bool> anomaly_enabled{false};
}

void set_detect_anomaly(bool enabled) { anomaly_enabled = enabled; }
bool is_anomaly_enabled() { return anomaly_enabled; }

}  // namespace tg::autograd

namespace tg::detail {

void check_forward_anomaly(const char* name, const Tensor& out) {
  if (!autograd::is_anomaly_enabled() || in_backward() || !is_floating(out.dtype())) return;
  for (double v : out.to_vector())
    if (!std::isfinite(v))
      throw Error(fmt::format("anomaly: forward of '{}' produced {} in its output of shape {}",
                              name, std::isnan(v) ? "NaN" : "Inf", format_shape(out.shape())));
}

}  // namespace tg::detail
