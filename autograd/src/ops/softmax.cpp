// The softmax family along one dim, shifted by the maximum so logits of ±1000 stay finite.
#include <cmath>
#include <limits>

#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

enum class Result { softmax, log_softmax, logsumexp };

// One pass per slice along dim: m = max, s = Σ e^(x-m); then softmax = e^(x-m)/s,
// log_softmax = x - m - log s, logsumexp = m + log s.
Tensor softmax_kernel(const char* op, const Tensor& a_in, int64_t dim, Result result) {
  Tensor holder;  // an i64 or strided input is read through a contiguous f32 or own-dtype copy
  const Tensor& a =
      detail::dense_as(a_in, a_in.dtype() == DType::i64 ? DType::f32 : a_in.dtype(), holder);
  const detail::DimSplit s = detail::split_at(a.shape(), dim);
  Shape shape = a.shape();
  if (result == Result::logsumexp) shape[static_cast<size_t>(dim)] = 1;
  Tensor out = detail::empty(shape, a.dtype());
  detail::dispatch_floating(op, a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T* o = detail::data_of<T>(out);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t i = 0; i < s.inner; ++i) {
        const T* in = x + outer * s.size * s.inner + i;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < s.size; ++k) m = std::max(m, in[k * s.inner]);
        if (!std::isfinite(m)) m = 0;  // all -inf (or an inf): no shift keeps the maths exact
        T total = 0;
        for (int64_t k = 0; k < s.size; ++k) total += std::exp(in[k * s.inner] - m);
        const T log_total = std::log(total);
        if (result == Result::logsumexp) {
          o[outer * s.inner + i] = m + log_total;
          continue;
        }
        T* target = o + outer * s.size * s.inner + i;
        for (int64_t k = 0; k < s.size; ++k) {
          const T shifted = in[k * s.inner] - m;
          target[k * s.inner] =
              result == Result::softmax ? std::exp(shifted) / total : shifted - log_total;
        }
      }
  });
  return out;
}

// The plain (unrecorded) backward of softmax or log_softmax along one dim, one pass per slice
// after its sum: softmax's dx = y ⊙ (g − Σ g⊙y), log_softmax's dx = g − e^y ⊙ Σ g, where y is
// the op's saved output.
Tensor softmax_backward_kernel(const Tensor& g_in, const Tensor& y_in, int64_t dim, Result result) {
  Tensor g_holder;  // a strided input is read through a contiguous copy
  const Tensor& g = detail::dense_values(g_in, g_holder);
  Tensor y_holder;  // a strided input is read through a contiguous copy
  const Tensor& y = detail::dense_values(y_in, y_holder);
  const detail::DimSplit s = detail::split_at(y.shape(), dim);
  Tensor dx = detail::empty(y.shape(), y.dtype());
  detail::dispatch_floating("softmax", y.dtype(), [&]<class T>() {
    const T* gv = detail::data_of<T>(g);
    const T* yv = detail::data_of<T>(y);
    T* d = detail::data_of<T>(dx);
    for (int64_t outer = 0; outer < s.outer; ++outer)
      for (int64_t i = 0; i < s.inner; ++i) {
        const int64_t base = outer * s.size * s.inner + i;
        T total = 0;
        for (int64_t k = 0; k < s.size; ++k) {
          const int64_t at = base + k * s.inner;
          total += result == Result::softmax ? gv[at] * yv[at] : gv[at];
        }
        for (int64_t k = 0; k < s.size; ++k) {
          const int64_t at = base + k * s.inner;
          d[at] = result == Result::softmax ? yv[at] * (gv[at] - total)
                                            : gv[at] - std::exp(yv[at]) * total;
        }
      }
  });
  return dx;
}

// Whether the plain kernel can take g: a plain backward, g already in y's shape and dtype.
bool plain_backward(const Tensor& g, const Tensor& y) {
  return !is_grad_enabled() && g.shape() == y.shape() && g.dtype() == y.dtype();
}

}  // namespace

// d softmax_i/dx_j = y_i (δ_ij - y_j)  ⇒  dx = y ⊙ (g - Σ g⊙y)
// A 0-D tensor is one slice of one element (dims 0 and -1, as PyTorch).
Tensor softmax(const Tensor& a, int64_t dim) {
  const int64_t d = detail::is_scalar_dim("softmax", dim, a)
                        ? 0
                        : detail::canonical_dim("softmax", dim, a.dim(), a.shape());
  Tensor out = softmax_kernel("softmax", a, d, Result::softmax);
  return detail::record("softmax", out, {&a},
                        [a = detail::SavedTensor(a), d,
                         y_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
                          const Tensor y = y_saved.value([&] { return softmax(a.unpack(), d); });
                          if (plain_backward(g, y))
                            return {softmax_backward_kernel(g, y, d, Result::softmax)};
                          return {y * (g - sum(g * y, d, /*keepdim=*/true))};
                        });
}

// d log_softmax_i/dx_j = δ_ij - softmax_j  ⇒  dx = g - softmax ⊙ Σ g
Tensor log_softmax(const Tensor& a, int64_t dim) {
  const int64_t d = detail::is_scalar_dim("log_softmax", dim, a)
                        ? 0
                        : detail::canonical_dim("log_softmax", dim, a.dim(), a.shape());
  Tensor out = softmax_kernel("log_softmax", a, d, Result::log_softmax);
  return detail::record("log_softmax", out, {&a},
                        [a = detail::SavedTensor(a), d,
                         y_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
                          const Tensor y =
                              y_saved.value([&] { return log_softmax(a.unpack(), d); });
                          if (plain_backward(g, y))
                            return {softmax_backward_kernel(g, y, d, Result::log_softmax)};
                          return {g - exp(y) * sum(g, d, /*keepdim=*/true)};
                        });
}

// d logsumexp/dx = softmax(x)
Tensor logsumexp(const Tensor& a, int64_t dim, bool keepdim) {
  if (detail::is_scalar_dim("logsumexp", dim, a)) {  // one element: logsumexp(s) = s
    Tensor out =
        detail::as_dtype(a, a.dtype() == DType::i64 ? DType::f32 : a.dtype()).detach().clone();
    return detail::record("logsumexp", out, {&a}, [](const Tensor& g) -> Gradients { return {g}; });
  }
  const int64_t d = detail::canonical_dim("logsumexp", dim, a.dim(), a.shape());
  Tensor out = softmax_kernel("logsumexp", a, d, Result::logsumexp);
  if (!keepdim)
    out = detail::alias_with_shape(out, [&] {
      Shape shape = out.shape();
      shape.erase(shape.begin() + d);
      return shape;
    }());
  return detail::record("logsumexp", out, {&a},
                        [a = detail::SavedTensor(a), d, keepdim](const Tensor& g) -> Gradients {
                          return {(keepdim ? g : unsqueeze(g, d)) * softmax(a.unpack(), d)};
                        });
}

}  // namespace tg
