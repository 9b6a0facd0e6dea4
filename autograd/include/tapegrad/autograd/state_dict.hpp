// tg::StateDict: named tensors, the common currency of modules', optimizers' and schedulers' state.
#pragma once

#include <map>
#include <string>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// Dotted names ("fc1.weight", "state.0.exp_avg", "param_groups.0.lr") mapped to tensors;
/// ordered, so saving one gives the same file every time.
using StateDict = std::map<std::string, Tensor>;

}  // namespace tg
