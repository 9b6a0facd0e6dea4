// Grad mode: whether ops are recorded on the tape, per thread.
#pragma once

namespace tg {

/// True unless a NoGradGuard is alive on this thread.
bool is_grad_enabled();

/// Turns recording on or off for this thread; prefer the guards.
void set_grad_enabled(bool enabled);

/// RAII: nothing is recorded on this thread while one is alive (evaluation, optimizer steps).
///
///     { tg::NoGradGuard no_grad; auto logits = model(x_test); }
struct NoGradGuard {
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// RAII: turns recording back on inside a NoGradGuard (used to record backward passes).
struct EnableGradGuard {
  EnableGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tg
