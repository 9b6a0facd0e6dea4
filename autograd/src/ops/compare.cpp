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

namespace {

// The share of the gradient of maximum (larger = true) or minimum that goes to a and to b, as
// PyTorch: g where a wins, g/2 on a tie, 0 where a loses; a NaN on either side loses to nobody,
// so both sides get g there.
std::pair<Tensor, Tensor> shares(const Tensor& a, const Tensor& b, bool larger) {
  const DType dtype = detail::promote(a.dtype(), b.dtype());
  auto share = [larger](auto x, auto y) {
    if (x == y) return 0.5;
    return (larger ? x < y : x > y) ? 0.0 : 1.0;  // false for a NaN on either side
  };
  auto mask = [&](const Tensor& x, const Tensor& y) {
    return detail::dispatch(dtype, [&]<class T>() {
      return detail::binary_kernel<T>(larger ? "maximum" : "minimum", x, y,
                                      [&](T p, T q) { return static_cast<T>(share(p, q)); });
    });
  };
  return {mask(a, b), mask(b, a)};
}

// One side if it is NaN or wins, else the other: NaN propagates, as PyTorch's maximum/minimum.
template <bool kLarger>
auto pick = [](auto x, auto y) {
  if (x != x) return x;
  if (y != y) return y;
  return (kLarger ? x > y : x < y) ? x : y;
};

Tensor extremum(const char* name, const char* backward_name, const Tensor& a, const Tensor& b,
                bool larger) {
  Tensor out = larger ? compare(name, a, b, pick<true>) : compare(name, a, b, pick<false>);
  return detail::record(name, out, {&a, &b},
                        [a = detail::SavedTensor(a), b = detail::SavedTensor(b), larger,
                         backward_name](const Tensor& g) -> Gradients {
                          const Tensor& x = a.unpack();
                          const Tensor& y = b.unpack();
                          const auto [a_share, b_share] = shares(x, y, larger);
                          return {detail::times_mask(backward_name, g, a_share, {x, y}),
                                  detail::times_mask(backward_name, g, b_share, {x, y})};
                        });
}

}  // namespace

// d max(a,b)/da = 1 where a > b, 1/2 where a == b, else 0 (and the mirror image for b);
// maximum(NaN, x) = NaN
Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", "maximum_backward", a, b, true);
}

// d min(a,b)/da = 1 where a < b, 1/2 where a == b, else 0 (and the mirror image for b);
// minimum(NaN, x) = NaN
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", "minimum_backward", a, b, false);
}

}  // namespace tg
