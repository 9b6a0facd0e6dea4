// Comparisons (0/1 results, never recorded) and the differentiable maximum and minimum.
#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

template <class F>
Tensor compare(const char* op, const Tensor& a, const Tensor& b, F f) {
  return detail::dispatch(detail::promote(a.dtype(), b.dtype()), [&]<class T>() {
    return detail::binary_kernel<T>(op, a, b, [&](T x, T y) { return static_cast<T>(f(x, y)); });
  });
}

}  // namespace

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare("eq", a, b, [](auto x, auto y) { return x == y; });
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare("ne", a, b, [](auto x, auto y) { return x != y; });
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare("lt", a, b, [](auto x, auto y) { return x < y; });
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare("le", a, b, [](auto x, auto y) { return x <= y; });
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare("gt", a, b, [](auto x, auto y) { return x > y; });
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare("ge", a, b, [](auto x, auto y) { return x >= y; });
}

// d max(a,b)/da = 1 where a > b, 1/2 where a == b, else 0 (and the mirror image for b)
Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = compare("maximum", a, b, [](auto x, auto y) { return x > y ? x : y; });
  return detail::record("maximum", out, {&a, &b}, [a, b](const Tensor& g) -> Gradients {
    const Tensor a_share = gt(a, b) + eq(a, b) * 0.5;
    return {g * a_share, g * (1.0 - a_share)};
  });
}

// d min(a,b)/da = 1 where a < b, 1/2 where a == b, else 0 (and the mirror image for b)
Tensor minimum(const Tensor& a, const Tensor& b) {
  Tensor out = compare("minimum", a, b, [](auto x, auto y) { return x < y ? x : y; });
  return detail::record("minimum", out, {&a, &b}, [a, b](const Tensor& g) -> Gradients {
    const Tensor a_share = lt(a, b) + eq(a, b) * 0.5;
    return {g * a_share, g * (1.0 - a_share)};
  });
}

}  // namespace tg
