// Matrix products on GEMM: matmul (1-D, 2-D, broadcast batches) and the fused linear layer op.
// Backward passes use GEMM's transpose flags instead of materialising transposes.
#include <fmt/format.h>

#include "blas.hpp"
#include "kernels.hpp"
#include "record.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// Products run in one floating dtype; mixing f32 and f64 is refused (as PyTorch) rather than
// converting a whole weight matrix per call, and the message says how to make them agree.
DType floating_operands(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::i64 || b.dtype() == DType::i64)
    throw Error(fmt::format(
        "{}: operands must both be f32 or both f64, got {} {} and {} {}; convert the i64 one "
        "with .to(tg::f32)",
        op, dtype_name(a.dtype()), format_shape(a.shape()), dtype_name(b.dtype()),
        format_shape(b.shape())));
  if (a.dtype() != b.dtype())
    throw Error(fmt::format(
        "{}: operands must both be f32 or both f64, got {} {} and {} {}; convert the input with "
        ".to(tg::f32), or the model with model.to(tg::f64) (read_csv and friends can give f64 "
        "data while modules start in f32)",
        op, dtype_name(a.dtype()), format_shape(a.shape()), dtype_name(b.dtype()),
        format_shape(b.shape())));
  return a.dtype();
}

// op(X)'s rows and columns for a matrix (or each matrix of a batch) of `shape`.
int64_t rows(const Shape& shape, bool transposed) {
  return shape[shape.size() - (transposed ? 1 : 2)];
}
int64_t cols(const Shape& shape, bool transposed) {
  return shape[shape.size() - (transposed ? 2 : 1)];
}

// op(A) @ op(B) for matrices or equal-sized batches of them, recorded as "matmul".
//   C = op(A) op(B):  d op(A) = G op(B)ᵀ,  d op(B) = op(A)ᵀ G
// so dA = ta ? op(B) Gᵀ : G op(B)ᵀ   and   dB = tb ? Gᵀ op(A) : op(A)ᵀ G,
// each again a product with transpose flags.
Tensor product(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const DType dtype = floating_operands("matmul", a, b);
  const int64_t m = rows(a.shape(), ta), k = cols(a.shape(), ta), n = cols(b.shape(), tb);
  const int64_t batch = a.dim() == 3 ? a.shape()[0] : 1;
  Shape shape = a.dim() == 3 ? Shape{batch, m, n} : Shape{m, n};
  Tensor out = detail::empty(shape, dtype);
  detail::dispatch_floating("matmul", dtype, [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    const T* y = detail::data_of<T>(b);
    T* o = detail::data_of<T>(out);
    for (int64_t i = 0; i < batch; ++i)
      detail::gemm<T>(ta, tb, m, n, k, T(1), x + i * m * k, y + i * k * n, T(0), o + i * m * n);
  });
  return detail::record(
      "matmul", out, {&a, &b},
      [a_saved = detail::SavedTensor(a), b_saved = detail::SavedTensor(b), ta,
       tb](const Tensor& g) -> Gradients {
        const Tensor& x = a_saved.unpack();
        const Tensor& y = b_saved.unpack();
        const Tensor da = x.requires_grad()
                              ? (ta ? product(y, g, tb, true) : product(g, y, false, !tb))
                              : Tensor();
        const Tensor db = y.requires_grad()
                              ? (tb ? product(g, x, true, ta) : product(x, g, !ta, false))
                              : Tensor();
        return {da, db};
      });
}

[[noreturn]] void inner_mismatch(const Tensor& a, const Tensor& b, int64_t ka, int64_t kb) {
  throw Error(fmt::format("matmul: {} @ {}: inner sizes {} and {} differ", format_shape(a.shape()),
                          format_shape(b.shape()), ka, kb));
}

}  // namespace

// torch.matmul's rules: 1-D operands become a row (left) or a column (right) and that dim is
// dropped from the result; dims before the last two are batch dims and broadcast. Broadcast
// operands are materialised by broadcast_to, whose backward sums each gradient back to its
// input's batch shape.
Tensor matmul(const Tensor& a, const Tensor& b) {
  const int64_t da = a.dim(), db = b.dim();
  if (da == 0 || db == 0)
    throw Error(fmt::format("matmul: {} @ {}: operands must have at least one dim, not be 0-D",
                            format_shape(a.shape()), format_shape(b.shape())));
  floating_operands("matmul", a, b);
  const int64_t ka = a.shape().back();
  const int64_t kb = db == 1 ? b.shape()[0] : b.shape()[static_cast<size_t>(db - 2)];
  if (ka != kb) inner_mismatch(a, b, ka, kb);
  // Vectors become matrices and back, as NumPy's matmul does; two vectors give their dot product.
  if (da == 1 && db == 1) return reshape(matmul(unsqueeze(a, 0), unsqueeze(b, 1)), {});
  if (da == 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (db == 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  if (da == 2 && db == 2) return product(a, b, false, false);
  const int64_t m = a.shape()[static_cast<size_t>(da - 2)], n = b.shape().back();
  if (db == 2) {  // one GEMM over all rows of a's batch
    Shape out_shape(a.shape().begin(), a.shape().end() - 1);
    out_shape.push_back(n);
    return reshape(product(reshape(a, {-1, ka}), b, false, false), out_shape);
  }
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  const Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = detail::broadcast_shapes("matmul", batch_a, batch_b);
  } catch (const Error&) {
    throw Error(fmt::format("matmul: {} @ {}: batch dims {} and {} do not broadcast",
                            format_shape(a.shape()), format_shape(b.shape()), format_shape(batch_a),
                            format_shape(batch_b)));
  }
  const int64_t count = shape_numel(batch);
  auto batched = [&](const Tensor& t, int64_t rows, int64_t cols) {
    Shape full = batch;
    full.push_back(rows);
    full.push_back(cols);
    return reshape(broadcast_to(t, full), {count, rows, cols});
  };
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  return reshape(product(batched(a, m, ka), batched(b, kb, n), false, false), out_shape);
}

// y = x Wᵀ + b:  dx = G W,  dW = Gᵀ x,  db = Σ_rows G
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() != 2 || x.dim() < 1 || x.shape().back() != weight.shape()[1] ||
      (bias.defined() && (bias.dim() != 1 || bias.shape()[0] != weight.shape()[0])))
    throw Error(
        fmt::format("linear: input {} with weight {} and bias {}: expected input [..., in], "
                    "weight [out, in], bias [out]",
                    format_shape(x.shape()), format_shape(weight.shape()),
                    bias.defined() ? format_shape(bias.shape()) : "none"));
  const DType dtype = floating_operands("linear", x, weight);
  if (bias.defined() && bias.dtype() != dtype) floating_operands("linear", x, bias);
  if (x.dim() != 2) {  // [..., in]: fold the leading dims into rows
    Shape out_shape = x.shape();
    out_shape.back() = weight.shape()[0];
    return reshape(linear(reshape(x, {-1, x.shape().back()}), weight, bias), out_shape);
  }
  const int64_t rows_n = x.shape()[0], in = x.shape()[1], out_n = weight.shape()[0];
  Tensor out = detail::empty({rows_n, out_n}, dtype);
  detail::dispatch_floating("linear", dtype, [&]<class T>() {
    T* o = detail::data_of<T>(out);
    T beta = T(0);
    if (bias.defined()) {  // start every row from the bias and let GEMM add x Wᵀ to it
      const T* bv = detail::data_of<T>(bias);
      for (int64_t r = 0; r < rows_n; ++r)
        for (int64_t c = 0; c < out_n; ++c) o[r * out_n + c] = bv[c];
      beta = T(1);
    }
    detail::gemm<T>(false, true, rows_n, out_n, in, T(1), detail::data_of<T>(x),
                    detail::data_of<T>(weight), beta, o);
  });
  return detail::record(
      "linear", out, {&x, &weight, &bias},
      [x_saved = detail::SavedTensor(x), w_saved = detail::SavedTensor(weight),
       has_bias = bias.defined()](const Tensor& g) -> Gradients {
        return {x_saved.requires_grad() ? product(g, w_saved.unpack(), false, false) : Tensor(),
                w_saved.requires_grad() ? product(g, x_saved.unpack(), true, false) : Tensor(),
                has_bias ? sum(g, 0) : Tensor()};
      });
}

}  // namespace tg
