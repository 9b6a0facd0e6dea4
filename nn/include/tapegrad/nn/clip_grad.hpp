// Gradient clipping in place: clip_grad_norm_ and clip_grad_value_, as torch.nn.utils.
#pragma once

#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::nn {

/// Returns the total norm of all gradients (as if concatenated; parameters without a gradient
/// are skipped) and, if max_norm / (total + 1e-6) < 1, scales every gradient in place by that
/// coefficient. A non-finite total is returned with the gradients left untouched, so the
/// caller can skip the step; max_norm < 0 or norm_type ≤ 0 throws tg::Error. norm_type may be
/// infinity (the largest |g|).
///
///     loss.backward();
///     double norm = tg::nn::clip_grad_norm_(model.parameters(), 1.0);
///     optimizer.step();
double clip_grad_norm_(std::vector<Tensor> params, double max_norm, double norm_type = 2.0);

/// Clamps every gradient element into [−clip_value, clip_value] in place (parameters without
/// a gradient skipped); clip_value < 0 throws tg::Error.
void clip_grad_value_(std::vector<Tensor> params, double clip_value);

}  // namespace tg::nn
