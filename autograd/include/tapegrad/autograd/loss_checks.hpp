// The input checks of the losses, for a loss written on the ops as for the fused ones: tg::Error
// naming the loss unless the tensors are defined, of equal shapes and floating.
#pragma once

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// Throws tg::Error naming `loss` unless `input` (called `input_name` in the message) and
/// `target` are defined tensors of equal shapes: the losses do not broadcast.
void check_loss_shapes(const char* loss, const char* input_name, const Tensor& input,
                       const Tensor& target);

/// Throws tg::Error naming `loss` unless `tensor` (called `name` in the message) is f32 or f64.
void check_loss_floating(const char* loss, const char* name, const Tensor& tensor);

}  // namespace tg
