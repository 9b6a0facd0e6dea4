// tg::detail::dispatch_floating: the one f32/f64 dispatch that kernels and optimizers share.
#pragma once

#include <string>

#include "tapegrad/autograd/dtype.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::detail {

/// Calls f.template operator()<float>() or <double>() as `dtype` says; an i64 `dtype` gets a
/// tg::Error naming `op`.
template <class F>
decltype(auto) dispatch_floating(const char* op, DType dtype, F&& f) {
  if (dtype == DType::f64) return f.template operator()<double>();
  if (dtype != DType::f32) throw Error(std::string(op) + ": expects a floating tensor, got i64");
  return f.template operator()<float>();
}

}  // namespace tg::detail
