// tg::detail::dispatch and dispatch_floating: the one dtype dispatch that kernels, optimizers
// and readers share.
#pragma once

#include <cstdint>
#include <string>

#include "tapegrad/autograd/dtype.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::detail {

/// Calls f.template operator()<T>() with T the C++ type of `dtype` (float, double, int64_t).
template <class F>
decltype(auto) dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32:
      return f.template operator()<float>();
    case DType::f64:
      return f.template operator()<double>();
    case DType::i64:
      break;
  }
  return f.template operator()<int64_t>();
}

/// Calls f.template operator()<float>() or <double>() as `dtype` says; an i64 `dtype` gets a
/// tg::Error naming `op`.
template <class F>
decltype(auto) dispatch_floating(const char* op, DType dtype, F&& f) {
  if (dtype == DType::f64) return f.template operator()<double>();
  if (dtype != DType::f32) throw Error(std::string(op) + ": expects a floating tensor, got i64");
  return f.template operator()<float>();
}

}  // namespace tg::detail
