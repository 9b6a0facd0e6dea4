// The per-thread grad mode flag.
#include "tapegrad/autograd/grad_mode.hpp"

namespace tg {
namespace {
thread_local bool grad_enabled = true;
}

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace tg
