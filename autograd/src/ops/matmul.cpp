// Matrix products on GEMM: matmul (1-D, 2-D, broadcast batches) and the fused layer ops linear and
// linear_relu.
// Backward passes use GEMM's transpose flags instead of materialising transposes.
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "blas.hpp"
#include "grad_sink.hpp"
#include "kernels.hpp"
#include "record.hpp"
#include "small_blocks.hpp"
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

Tensor product(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb);

// The gradient of the running backward's input `input` as the matrix product op(A) op(B): added
// straight into that input's .grad() by GEMM with beta = 1 where the engine allows it
// (grad_sink.hpp), which skips OpenBLAS's pass zeroing a new output and the engine's pass adding
// it into .grad(); else a new tensor, as product() gives.
Tensor product_gradient(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb, size_t input) {
  Tensor* sink = detail::leaf_grad_sink(input);
  if (sink == nullptr || a_in.dim() != 2 || b_in.dim() != 2 || a_in.dtype() != sink->dtype() ||
      b_in.dtype() != sink->dtype() || !detail::sink_is_apart(*sink, {&a_in, &b_in}))
    return product(a_in, b_in, ta, tb);
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  Tensor b_holder;  // a strided input is read through a contiguous copy
  const Tensor& b = detail::contiguous_input(b_in, b_holder);
  const int64_t m = rows(a.shape(), ta), k = cols(a.shape(), ta), n = cols(b.shape(), tb);
  if (sink->shape() != Shape{m, n}) return product(a_in, b_in, ta, tb);
  detail::dispatch_floating("matmul", sink->dtype(), [&]<class T>() {
    detail::gemm<T>(ta, tb, m, n, k, T(1), detail::data_of<T>(a), detail::data_of<T>(b), T(1),
                    detail::data_of<T>(*sink));
  });
  return detail::accumulated_into_sink(input);
}

// op(A) @ op(B) for matrices or equal-sized batches of them, recorded as "matmul".
//   C = op(A) op(B):  d op(A) = G op(B)ᵀ,  d op(B) = op(A)ᵀ G
// so dA = ta ? op(B) Gᵀ : G op(B)ᵀ   and   dB = tb ? Gᵀ op(A) : op(A)ᵀ G,
// each again a product with transpose flags.
Tensor product(const Tensor& a_in, const Tensor& b_in, bool ta, bool tb) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::contiguous_input(a_in, a_holder);
  Tensor b_holder;  // a strided input is read through a contiguous copy
  const Tensor& b = detail::contiguous_input(b_in, b_holder);
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
  return detail::record("matmul", out, {&a, &b},
                        [a_saved = detail::SavedTensor(a), b_saved = detail::SavedTensor(b), ta,
                         tb](const Tensor& g) -> Gradients {
                          const Tensor& x = a_saved.unpack();
                          const Tensor& y = b_saved.unpack();
                          const Tensor da = x.requires_grad()
                                                ? (ta ? product_gradient(y, g, tb, true, 0)
                                                      : product_gradient(g, y, false, !tb, 0))
                                                : Tensor();
                          const Tensor db = y.requires_grad()
                                                ? (tb ? product_gradient(g, x, true, ta, 1)
                                                      : product_gradient(x, g, !ta, false, 1))
                                                : Tensor();
                          return {da, db};
                        });
}

[[noreturn]] void inner_mismatch(const Tensor& a, const Tensor& b, int64_t ka, int64_t kb) {
  throw Error(fmt::format("matmul: {} @ {}: inner sizes {} and {} differ", format_shape(a.shape()),
                          format_shape(b.shape()), ka, kb));
}

// The checks shared by linear and linear_relu, naming `op`.
void check_linear(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() != 2 || x.dim() < 1 || x.shape().back() != weight.shape()[1] ||
      (bias.defined() && (bias.dim() != 1 || bias.shape()[0] != weight.shape()[0])))
    throw Error(
        fmt::format("{}: input {} with weight {} and bias {}: expected input [..., in], "
                    "weight [out, in], bias [out]",
                    op, format_shape(x.shape()), format_shape(weight.shape()),
                    bias.defined() ? format_shape(bias.shape()) : "none"));
  const DType dtype = floating_operands(op, x, weight);
  if (bias.defined() && bias.dtype() != dtype) floating_operands(op, x, bias);
}

// A layer applied to x [..., in] as to the matrix of its rows, the result given x's leading dims.
template <class Layer>
Tensor fold_rows(const Tensor& x, const Tensor& weight, Layer layer) {
  Shape out_shape = x.shape();
  out_shape.back() = weight.shape()[0];
  return reshape(layer(reshape(x, {-1, x.shape().back()})), out_shape);
}

// Every row of out [rows, cols] set to `row`: the first row copied, then the rows filled so far
// copied after themselves, so a batch of rows takes log2(rows) copies (per-row loops cost ~40
// instructions a row at the tiny MLP's 16 columns, callgrind).
template <class T>
void repeat_row(const T* row, T* out, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  std::copy_n(row, cols, out);
  for (int64_t filled = 1; filled < rows; filled *= 2)
    std::copy_n(out, std::min(filled, rows - filled) * cols, out + filled * cols);
}

// relu's backward on [rows, cols]: d = g where y > 0 or y is NaN, else 0; and, given `sums`,
// each column's sum of d added to it (the bias gradient) in the same pass. The buffers are
// __restrict parameters of a function of their own: GCC ignores __restrict on local pointers,
// and then checked them for overlap before every row.
template <class T>
[[gnu::noinline]] void relu_mask_rows(const T* __restrict y, const T* __restrict g, T* __restrict d,
                                      T* __restrict sums, int64_t rows, int64_t cols) {
  if (sums == nullptr) {
    for (int64_t i = 0; i < rows * cols; ++i) {
      const T incoming = g[i];  // loaded before the select, so it compiles to a blend
      d[i] = y[i] <= 0 ? T(0) : incoming;
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const T incoming = g[r * cols + c];
      const T masked = y[r * cols + c] <= 0 ? T(0) : incoming;
      d[r * cols + c] = masked;
      sums[c] += masked;
    }
}

// x Wᵀ + b for x [rows, in]: every row starts as the bias and GEMM adds x Wᵀ to it (beta = 1),
// so there is no separate bias pass and OpenBLAS does not zero the output first.
Tensor affine(const char* op, const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in) {
  Tensor x_holder;  // a strided input is read through a contiguous copy
  const Tensor& x = detail::dense_values(x_in, x_holder);
  Tensor weight_holder;  // a strided input is read through a contiguous copy
  const Tensor& weight = detail::dense_values(weight_in, weight_holder);
  Tensor bias_holder;  // a strided input is read through a contiguous copy
  const Tensor& bias = detail::dense_values(bias_in, bias_holder);
  const int64_t rows_n = x.shape()[0], in = x.shape()[1], out_n = weight.shape()[0];
  Tensor out = detail::empty({rows_n, out_n}, x.dtype());
  detail::dispatch_floating(op, x.dtype(), [&]<class T>() {
    T* o = detail::data_of<T>(out);
    T beta = T(0);
    if (bias.defined()) {
      repeat_row(detail::data_of<T>(bias), o, rows_n, out_n);
      beta = T(1);
    }
    detail::gemm<T>(false, true, rows_n, out_n, in, T(1), detail::data_of<T>(x),
                    detail::data_of<T>(weight), beta, o);
  });
  return out;
}

// Σ over the rows of g [rows, cols] (a bias's gradient), unrecorded, as the product gᵀ·1, which
// runs as GEMV: measured against a loop adding each row into the sums, it took ~1,000 fewer
// instructions per step of softmax 784-10 and MLP 784-128-10 at batch 64 (callgrind), and ~100
// fewer for logistic 784-1. (GEMV's beta = 0 writes every sum, so the output starts empty.)
Tensor column_sums(const Tensor& g_in) {
  Tensor g_holder;  // a strided input is read through a contiguous copy
  const Tensor& g = detail::dense_values(g_in, g_holder);
  const int64_t rows_n = g.shape()[0], cols_n = g.shape()[1];
  Tensor out = detail::empty({cols_n}, g.dtype());
  detail::dispatch_floating("linear", g.dtype(), [&]<class T>() {
    const std::vector<T, detail::SmallBlockAllocator<T>> ones(static_cast<size_t>(rows_n), T(1));
    detail::gemm<T>(true, false, cols_n, 1, rows_n, T(1), detail::data_of<T>(g), ones.data(), T(0),
                    detail::data_of<T>(out));
  });
  return out;
}

// 1 where a > 0 or a is NaN (where relu passes its gradient), else 0; a constant.
Tensor positive_mask(const Tensor& a_in) {
  Tensor a_holder;  // a strided input is read through a contiguous copy
  const Tensor& a = detail::dense_values(a_in, a_holder);
  Tensor mask = detail::empty(a.shape(), a.dtype());
  detail::dispatch_floating("linear_relu", a.dtype(), [&]<class T>() {
    const T* x = detail::data_of<T>(a);
    T* m = detail::data_of<T>(mask);
    for (int64_t i = 0, end = a.numel(); i < end; ++i) m[i] = x[i] <= 0 ? T(0) : T(1);
  });
  return mask;
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
  check_linear("linear", x, weight, bias);
  if (x.dim() != 2)
    return fold_rows(x, weight, [&](const Tensor& rows) { return linear(rows, weight, bias); });
  Tensor out = affine("linear", x, weight, bias);
  return detail::record(
      "linear", out, {&x, &weight, &bias},
      [x_saved = detail::SavedTensor(x), w_saved = detail::SavedTensor(weight),
       has_bias = bias.defined()](const Tensor& g) -> Gradients {
        return {x_saved.requires_grad() ? product(g, w_saved.unpack(), false, false) : Tensor(),
                w_saved.requires_grad() ? product_gradient(g, x_saved.unpack(), true, false, 1)
                                        : Tensor(),
                !has_bias           ? Tensor()
                : is_grad_enabled() ? sum(g, 0)
                                    : column_sums(g)};
      });
}

// y = relu(x Wᵀ + b) with the mask m = [y > 0] (NaN passes, as relu's):
//   dY = G ⊙ m,  dx = dY W,  dW = dYᵀ x,  db = Σ_rows dY
// The forward applies relu to the product's output while it is in cache instead of writing a
// second tensor, and the backward's one pass over G writes dY and sums db.
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_linear("linear_relu", x, weight, bias);
  if (x.dim() != 2)
    return fold_rows(x, weight,
                     [&](const Tensor& rows) { return linear_relu(rows, weight, bias); });
  Tensor out = affine("linear_relu", x, weight, bias);
  detail::dispatch_floating("linear_relu", out.dtype(), [&]<class T>() {
    T* o = detail::data_of<T>(out);
    for (int64_t i = 0, end = out.numel(); i < end; ++i) o[i] = o[i] <= 0 ? T(0) : o[i];
  });
  return detail::record(
      "linear_relu", out, {&x, &weight, &bias},
      [x_saved = detail::SavedTensor(x), w_saved = detail::SavedTensor(weight),
       b_saved = detail::SavedTensor(bias),
       y_saved = detail::SavedOutput(out)](const Tensor& g) -> Gradients {
        const Tensor& input = x_saved.unpack();
        const Tensor& w = w_saved.unpack();
        const bool has_bias = b_saved.unpack().defined();
        if (is_grad_enabled()) {
          // create_graph: the product recorded again, so that second derivatives reach x, W and
          // b through it; the mask is constant in them, as relu's backward records it.
          const Tensor pre = linear(input, w, b_saved.unpack());
          const Tensor dy = detail::times_mask("relu_backward", g, positive_mask(pre), {pre});
          return {input.requires_grad() ? product(dy, w, false, false) : Tensor(),
                  w.requires_grad() ? product(dy, input, true, false) : Tensor(),
                  has_bias ? sum(dy, 0) : Tensor()};
        }
        const Tensor y = y_saved.value([&] { return linear_relu(input, w, b_saved.unpack()); });
        const int64_t rows_n = y.shape()[0], out_n = y.shape()[1];
        Tensor dy = detail::empty(y.shape(), y.dtype());
        Tensor db = has_bias ? zeros({out_n}, {.dtype = y.dtype()}) : Tensor();
        detail::dispatch_floating("linear_relu", y.dtype(), [&]<class T>() {
          relu_mask_rows(detail::data_of<T>(y), detail::data_of<T>(g), detail::data_of<T>(dy),
                         has_bias ? detail::data_of<T>(db) : nullptr, rows_n, out_n);
        });
        return {input.requires_grad() ? product(dy, w, false, false) : Tensor(),
                w.requires_grad() ? product_gradient(dy, input, true, false, 1) : Tensor(), db};
      });
}

}  // namespace tg
