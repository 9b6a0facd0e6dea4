// The hook through which tg::nn::summary sees each module's output during one forward.
#pragma once

#include <functional>

#include "tapegrad/nn/module.hpp"

namespace tg::nn::detail {

/// Called by Module::operator() after each forward with the module and its output.
using ForwardObserver = std::function<void(Module&, const Tensor&)>;

/// This thread's observer, or null (the common case: one load and a branch per call).
extern thread_local ForwardObserver* forward_observer;

}  // namespace tg::nn::detail
