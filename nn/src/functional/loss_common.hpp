// Helpers the functional losses share: reductions and shape validation.
#pragma once

#include <fmt/format.h>

#include <string>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/ops.hpp"
#include "tapegrad/nn/functional.hpp"

namespace tg::nn::functional::detail {

/// The per-element terms reduced as `reduction` asks: a 0-D mean or sum, or the terms.
inline Tensor reduce(const Tensor& terms, Reduction reduction) {
  switch (reduction) {
    case Reduction::mean:
      return terms.mean();
    case Reduction::sum:
      return terms.sum();
    case Reduction::none:
      break;
  }
  return terms;
}

/// Throws unless both tensors are defined and have equal shapes (losses do not broadcast).
inline void check_same_shape(const char* loss, const char* input_name, const Tensor& input,
                             const Tensor& target) {
  if (!input.defined() || !target.defined())
    throw Error(fmt::format("{}: {} and target must be defined tensors", loss, input_name));
  if (input.shape() != target.shape())
    throw Error(fmt::format("{}: {} of shape {} and target of shape {} must have equal shapes",
                            loss, input_name, format_shape(input.shape()),
                            format_shape(target.shape())));
}

/// Throws unless `t` holds f32 or f64.
inline void check_floating(const char* loss, const char* name, const Tensor& t) {
  if (!is_floating(t.dtype()))
    throw Error(fmt::format("{}: {} of shape {} must be f32 or f64, got {}", loss, name,
                            format_shape(t.shape()), dtype_name(t.dtype())));
}

}  // namespace tg::nn::functional::detail
