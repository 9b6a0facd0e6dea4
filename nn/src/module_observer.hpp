// The hook through which tg::nn::summary sees each module's output during one forward.
#pragma once

#include <functional>

#include "tapegrad/nn/module.hpp"

namespace tg::nn::detail {

/// Called by Module::operator() after each forward with the module and its output.
using ForwardObserver = std::function<void(Module&, const Tensor&)>;

/// Makes `observer` this thread's observer (null: none, the common case) and returns the
/// previous one. A function rather than an extern thread_local, whose cross-unit access
/// UBSan reports as a null store with static libraries.
ForwardObserver* exchange_forward_observer(ForwardObserver* observer);

/// True while some observer watches this thread's forwards (Sequential then calls every module
/// itself, fusing none, so that each one's output is seen).
bool forward_observed();

}  // namespace tg::nn::detail
