// The per-thread recording modes: grad mode, tape inspection, and "a backward is running".
#include "tapegrad/autograd/grad_mode.hpp"

#include "record.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg {
namespace {
thread_local bool grad_enabled = true;
thread_local bool inspecting = false;
thread_local bool backward_running = false;
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

namespace autograd {
bool is_inspecting_tape() { return inspecting; }
TapeInspectionGuard::TapeInspectionGuard() : previous_(inspecting) { inspecting = true; }
TapeInspectionGuard::~TapeInspectionGuard() { inspecting = previous_; }
}  // namespace autograd

namespace detail {
bool in_backward() { return backward_running; }
void set_in_backward(bool running) { backward_running = running; }
}  // namespace detail

}  // namespace tg
