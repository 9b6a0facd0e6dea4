// Copies: dtype conversion (differentiable between f32 and f64) and clone.
#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {

// d to(a)/da: the gradient converted back to a's dtype
Tensor Tensor::to(DType dtype) const {
  if (this->dtype() == dtype) return *this;
  Tensor out = detail::as_dtype(*this, dtype);
  if (!is_floating(dtype)) return out;  // integers carry no gradient
  return detail::record("to", out, {this}, [from = this->dtype()](const Tensor& g) -> Gradients {
    return {g.to(from)};
  });
}

// d clone(a)/da = 1
Tensor Tensor::clone() const {
  Tensor out = detail::empty(shape(), dtype());
  detail::copy_values(out, *this);
  return detail::record("clone", out, {this}, [](const Tensor& g) -> Gradients { return {g}; });
}

}  // namespace tg
