// The fused losses: softmax cross-entropy (weights, ignore_index, label smoothing), nll_loss,
// binary cross-entropy on probabilities and on logits, and mean squared error, each one record
// with its backward; the public tg:: entry points (loss.hpp) validate and reduce.
#include "tapegrad/autograd/loss.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels.hpp"
#include "record.hpp"
#include "small_blocks.hpp"
#include "storage.hpp"
#include "tapegrad/autograd/loss_checks.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg::detail {
namespace {

// Validates class-index targets for scores [N, C]: target i64 [N], each index in [0, C) or equal
// to ignore_index; and the optional per-class weight, a floating [C] that needs no gradient.
void check_class_targets(const char* loss, const char* input_name, const Tensor& input,
                         const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  if (!input.defined() || !target.defined())
    throw Error(fmt::format("{}: {} and target must be defined tensors", loss, input_name));
  if (!is_floating(input.dtype()))
    throw Error(fmt::format("{}: {} of shape {} must be f32 or f64, got {}", loss, input_name,
                            format_shape(input.shape()), dtype_name(input.dtype())));
  if (target.dtype() != DType::i64)
    throw Error(
        fmt::format("{}: target must hold i64 class indices, got {} of shape {} "
                    "({} of shape {})",
                    loss, dtype_name(target.dtype()), format_shape(target.shape()), input_name,
                    format_shape(input.shape())));
  if (input.dim() != 1 && input.dim() != 2)
    throw Error(fmt::format("{}: {} must be [N, C] (or [C] for one sample), got shape {}", loss,
                            input_name, format_shape(input.shape())));
  if (target.dim() != input.dim() - 1)
    throw Error(fmt::format("{}: target must be {} for {} of shape {}, got shape {}", loss,
                            input.dim() == 2 ? "1-D [N]" : "0-D", input_name,
                            format_shape(input.shape()), format_shape(target.shape())));
  if (input.dim() == 2 && target.size(0) != input.size(0))
    throw Error(fmt::format("{}: {} of shape {} has N = {} rows but target of shape {} has {}",
                            loss, input_name, format_shape(input.shape()), input.size(0),
                            format_shape(target.shape()), target.size(0)));
  const int64_t classes = input.size(-1);
  const int64_t* index = data_of<int64_t>(target);
  for (int64_t i = 0, end = target.numel(); i < end; ++i)
    if (index[i] != ignore_index && (index[i] < 0 || index[i] >= classes))
      throw Error(
          fmt::format("{}: target {} at position {} is out of range [0, {}) for {} of "
                      "shape {}",
                      loss, index[i], i, classes, input_name, format_shape(input.shape())));
  if (!weight.defined()) return;
  if (!is_floating(weight.dtype()) || weight.dim() != 1 || weight.size(0) != classes)
    throw Error(
        fmt::format("{}: weight must be an f32 or f64 [C] = [{}] tensor for {} of shape "
                    "{}, got {} {}",
                    loss, classes, input_name, format_shape(input.shape()),
                    dtype_name(weight.dtype()), format_shape(weight.shape())));
  if (weight.requires_grad() && is_grad_enabled())
    throw Error(fmt::format("{}: weight {} gets no gradient (as in PyTorch); pass weight.detach()",
                            loss, format_shape(weight.shape())));
}

// The losses' scratch arrays, from the per-thread free lists, so that a training step's loss
// calls no malloc.
using Doubles = std::vector<double, SmallBlockAllocator<double>>;

// t's elements as doubles.
Doubles values_of(const Tensor& t) {
  Tensor holder;
  const Tensor& dense = dense_values(t, holder);
  Doubles out(static_cast<size_t>(dense.numel()));
  dispatch(dense.dtype(), [&]<class T>() {
    const T* x = data_of<T>(dense);
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(x[i]);
  });
  return out;
}

// Per-sample class weights w[y_n] (0 for ignored samples) and their sum, the divisor of `mean`.
struct TargetWeights {
  Doubles of_sample;
  double total = 0;
};

TargetWeights target_weights(const Tensor& target, const Tensor& weight, int64_t ignore_index) {
  const Doubles w = weight.defined() ? values_of(weight) : Doubles();
  const int64_t* index = data_of<int64_t>(target);
  TargetWeights out;
  out.of_sample.resize(static_cast<size_t>(target.numel()));
  for (size_t n = 0; n < out.of_sample.size(); ++n) {
    const int64_t y = index[n];
    out.of_sample[n] = y == ignore_index ? 0.0 : w.empty() ? 1.0 : w[static_cast<size_t>(y)];
    out.total += out.of_sample[n];
  }
  return out;
}

// The per-sample terms reduced: their sum over `divisor` (mean; 0/0 = NaN when every sample is
// ignored, as PyTorch), their sum, or the terms.
Tensor reduce_terms(const Tensor& terms, Reduction reduction, double divisor) {
  if (reduction == Reduction::none) return terms;
  Tensor out = empty({}, terms.dtype());
  dispatch_floating("loss", terms.dtype(), [&]<class T>() {
    const T* t = data_of<T>(terms);
    double total = 0;
    for (int64_t i = 0, end = terms.numel(); i < end; ++i) total += static_cast<double>(t[i]);
    data_of<T>(out)[0] = static_cast<T>(reduction == Reduction::mean ? total / divisor : total);
  });
  return out;
}

// The factor each per-sample term's gradient receives from the gradient g of the output: g/divisor
// for mean (0 when nothing is counted, so ignored samples get exactly 0), g for sum, g[n] for
// none, as a tensor that broadcasts over [N, C] rows so create_graph can record it.
Tensor per_sample_factor(const Tensor& g, Reduction reduction, double divisor) {
  if (reduction == Reduction::none) return unsqueeze(g, 1);
  if (reduction == Reduction::mean) return g * (divisor > 0 ? 1.0 / divisor : 0.0);
  return g;
}

// The one-sample form: [C] scores with a 0-D target run as [1, C] and give a 0-D result.
bool one_sample(const Tensor& input) { return input.dim() == 1; }

// With p = softmax(z_n), ε = label_smoothing, w the class weights (all 1 without weight),
// W = Σ_c w_c and y = y_n, PyTorch's smoothed term is
//   l_n = (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_c w_c·(lse − z_c),
//   dl_n/dz_j = p_j·((1 − ε)·w_y + ε·W/C) − (1 − ε)·w_y·δ_yj − (ε/C)·w_j,
// ignored samples give 0; mean divides Σ l_n by Σ w_y over the counted samples.
Tensor fused_cross_entropy(const Tensor& logits_in, const Tensor& target_in,
                           const Tensor& weight_in, int64_t ignore_index, Reduction reduction,
                           double label_smoothing) {
  if (any_strided({&logits_in, &target_in, &weight_in}))  // strided inputs: contiguous copies
    return fused_cross_entropy(contiguous_of(logits_in), contiguous_of(target_in),
                               contiguous_of(weight_in), ignore_index, reduction, label_smoothing);
  const AllocationSite site("cross_entropy");  // a failed allocation names the op
  check_class_targets("cross_entropy", "logits", logits_in, target_in, weight_in, ignore_index);
  if (one_sample(logits_in)) {
    Tensor out = fused_cross_entropy(reshape(logits_in, {1, -1}), reshape(target_in, {1}),
                                     weight_in, ignore_index, reduction, label_smoothing);
    return reshape(out, {});
  }
  const Tensor& logits = logits_in;
  const Tensor target = target_in.detach();
  const Tensor weight =
      weight_in.defined() ? as_dtype(weight_in.detach(), logits.dtype()) : Tensor();
  const int64_t rows = logits.size(0), classes = logits.size(1);
  const TargetWeights counted = target_weights(target, weight, ignore_index);
  const double smooth = label_smoothing / static_cast<double>(classes);
  Tensor terms = empty({rows}, logits.dtype());
  // The softmax of each counted row, kept for the backward when there will be one: it is
  // computed here anyway, and keeping it saves the backward a second pass of exp.
  const bool recording = should_record({&logits});
  Tensor probs = recording ? empty(logits.shape(), logits.dtype()) : Tensor();
  dispatch_floating("cross_entropy", logits.dtype(), [&]<class T>() {
    const T* z = data_of<T>(logits);
    const T* w = weight.defined() ? data_of<T>(weight) : nullptr;
    const int64_t* index = data_of<int64_t>(target);
    T* o = data_of<T>(terms);
    T* p = recording ? data_of<T>(probs) : nullptr;
    for (int64_t n = 0; n < rows; ++n) {
      if (index[n] == ignore_index) {
        o[n] = 0;
        continue;
      }
      const T* row = z + n * classes;
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t c = 0; c < classes; ++c) m = std::max(m, row[c]);
      if (!std::isfinite(m)) m = 0;
      T total = 0;
      if (p != nullptr) {
        T* p_row = p + n * classes;
        for (int64_t c = 0; c < classes; ++c) total += (p_row[c] = std::exp(row[c] - m));
        const T inverse = T(1) / total;
        for (int64_t c = 0; c < classes; ++c) p_row[c] *= inverse;
      } else {
        for (int64_t c = 0; c < classes; ++c) total += std::exp(row[c] - m);
      }
      const T lse = m + std::log(total);
      T term = static_cast<T>(1 - label_smoothing) *
               static_cast<T>(counted.of_sample[static_cast<size_t>(n)]) * (lse - row[index[n]]);
      if (label_smoothing != 0) {
        T spread = 0;
        for (int64_t c = 0; c < classes; ++c) spread += (w ? w[c] : T(1)) * (lse - row[c]);
        term += static_cast<T>(smooth) * spread;
      }
      o[n] = term;
    }
  });
  Tensor out = reduce_terms(terms, reduction, counted.total);
  return record("cross_entropy", out, {&logits},
                [logits_saved = SavedTensor(logits), probs, target_saved = SavedTensor(target),
                 weight_saved = SavedTensor(weight), ignore_index, reduction, label_smoothing,
                 smooth, counted](const Tensor& g) -> Gradients {
                  // probs is this op's own buffer, out of every user's reach; the target and the
                  // class weights are the user's, so they go through version-checked handles.
                  const Tensor& labels = target_saved.unpack();
                  const Tensor& class_weight = weight_saved.unpack();
                  const int64_t n_rows = probs.size(0), n_classes = probs.size(1);
                  const int64_t* index = data_of<int64_t>(labels);
                  const Doubles w = class_weight.defined() ? values_of(class_weight) : Doubles();
                  double weight_total = 0;
                  for (int64_t c = 0; c < n_classes; ++c)
                    weight_total += w.empty() ? 1.0 : w[static_cast<size_t>(c)];
                  // Row n's gradient is (p·a_n − B_n)·factor_n, where B_n holds (1 − ε)·w_y at the
                  // target and (ε/C)·w_c everywhere; a_n and B_n are 0 for ignored samples.
                  Doubles a(static_cast<size_t>(n_rows), 0.0);
                  for (int64_t n = 0; n < n_rows; ++n)
                    if (index[n] != ignore_index)
                      a[static_cast<size_t>(n)] =
                          (1 - label_smoothing) * counted.of_sample[static_cast<size_t>(n)] +
                          label_smoothing * weight_total / static_cast<double>(n_classes);
                  auto hit = [&](int64_t n) {
                    return (1 - label_smoothing) * counted.of_sample[static_cast<size_t>(n)];
                  };
                  auto spread = [&](int64_t c) {
                    return smooth * (w.empty() ? 1.0 : w[static_cast<size_t>(c)]);
                  };
                  const Tensor factor = per_sample_factor(g, reduction, counted.total);
                  if (is_grad_enabled()) {  // create_graph: the same formula from recorded ops
                    const Tensor& scores = logits_saved.unpack();
                    std::vector<double> b_values(static_cast<size_t>(n_rows * n_classes), 0.0);
                    for (int64_t n = 0; n < n_rows; ++n) {
                      if (index[n] == ignore_index) continue;
                      for (int64_t c = 0; c < n_classes; ++c)
                        b_values[static_cast<size_t>(n * n_classes + c)] = spread(c);
                      b_values[static_cast<size_t>(n * n_classes + index[n])] += hit(n);
                    }
                    const Tensor b = tensor(b_values, scores.shape(), {.dtype = scores.dtype()});
                    const Tensor a_column = tensor(std::vector<double>(a.begin(), a.end()),
                                                   {n_rows, 1}, {.dtype = scores.dtype()});
                    return {(softmax(scores, 1) * a_column - b) * factor};
                  }
                  // One pass over the saved probabilities: p·(a_n·s_n), less the spread and the
                  // hit.
                  const Doubles scale = values_of(factor);
                  Tensor grad = empty(probs.shape(), probs.dtype());
                  dispatch_floating("cross_entropy", probs.dtype(), [&]<class T>() {
                    const T* p = data_of<T>(probs);
                    T* d = data_of<T>(grad);
                    for (int64_t n = 0; n < n_rows; ++n) {
                      T* __restrict out_row = d + n * n_classes;
                      const T* __restrict p_row = p + n * n_classes;
                      const auto un = static_cast<size_t>(n);
                      const double s = scale.size() == 1 ? scale[0] : scale[un];
                      if (index[n] == ignore_index) {
                        std::fill(out_row, out_row + n_classes, T(0));
                        continue;
                      }
                      const T row_a = static_cast<T>(a[un] * s);
                      for (int64_t c = 0; c < n_classes; ++c) out_row[c] = p_row[c] * row_a;
                      if (smooth != 0)
                        for (int64_t c = 0; c < n_classes; ++c)
                          out_row[c] -= static_cast<T>(spread(c) * s);
                      out_row[index[n]] -= static_cast<T>(hit(n) * s);
                    }
                  });
                  return {grad};
                });
}

// l_n = −w_y·log_probs[n, y] (0 when ignored)  ⇒  dl_n/dlog_probs[n, j] = −w_y·δ_yj
Tensor fused_nll_loss(const Tensor& log_probs, const Tensor& target_in, const Tensor& weight_in,
                      int64_t ignore_index, Reduction reduction) {
  if (any_strided({&log_probs, &target_in, &weight_in}))  // strided inputs: contiguous copies
    return fused_nll_loss(contiguous_of(log_probs), contiguous_of(target_in),
                          contiguous_of(weight_in), ignore_index, reduction);
  const AllocationSite site("nll_loss");  // a failed allocation names the op
  check_class_targets("nll_loss", "log_probs", log_probs, target_in, weight_in, ignore_index);
  if (one_sample(log_probs))
    return reshape(fused_nll_loss(reshape(log_probs, {1, -1}), reshape(target_in, {1}), weight_in,
                                  ignore_index, reduction),
                   {});
  const Tensor target = target_in.detach();
  const Tensor weight =
      weight_in.defined() ? as_dtype(weight_in.detach(), log_probs.dtype()) : Tensor();
  const int64_t rows = log_probs.size(0), classes = log_probs.size(1);
  const TargetWeights counted = target_weights(target, weight, ignore_index);
  Tensor terms = empty({rows}, log_probs.dtype());
  dispatch_floating("nll_loss", log_probs.dtype(), [&]<class T>() {
    const T* x = data_of<T>(log_probs);
    const int64_t* index = data_of<int64_t>(target);
    T* o = data_of<T>(terms);
    for (int64_t n = 0; n < rows; ++n)
      o[n] = index[n] == ignore_index ? T(0)
                                      : -static_cast<T>(counted.of_sample[static_cast<size_t>(n)]) *
                                            x[n * classes + index[n]];
  });
  Tensor out = reduce_terms(terms, reduction, counted.total);
  return record(
      "nll_loss", out, {&log_probs},
      [shape = log_probs.shape(), dtype = log_probs.dtype(), target_saved = SavedTensor(target),
       ignore_index, reduction, counted](const Tensor& g) -> Gradients {
        const int64_t n_rows = shape[0], n_classes = shape[1];
        const int64_t* index = data_of<int64_t>(target_saved.unpack());
        const Tensor picked = zeros(shape, {.dtype = dtype});
        dispatch_floating("nll_loss", dtype, [&]<class T>() {
          T* p = data_of<T>(picked);
          for (int64_t n = 0; n < n_rows; ++n)
            if (index[n] != ignore_index)
              p[n * n_classes + index[n]] =
                  static_cast<T>(-counted.of_sample[static_cast<size_t>(n)]);
        });
        // linear in g, so the recorded product is also the create_graph form
        return {picked * per_sample_factor(g, reduction, counted.total)};
      });
}

Tensor bce_terms(const Tensor& probs, const Tensor& target) {
  if (any_strided({&probs, &target}))  // strided inputs: contiguous copies
    return bce_terms(contiguous_of(probs), contiguous_of(target));
  const AllocationSite site("binary_cross_entropy");  // a failed allocation names the op
  Tensor out = empty(probs.shape(), probs.dtype());
  const Tensor y = as_dtype(target, probs.dtype());
  dispatch_floating("binary_cross_entropy", probs.dtype(), [&]<class T>() {
    const T* p = data_of<T>(probs);
    const T* t = data_of<T>(y);
    T* o = data_of<T>(out);
    for (int64_t i = 0, end = probs.numel(); i < end; ++i) {
      if (!(p[i] >= 0 && p[i] <= 1))
        throw Error(
            fmt::format("binary_cross_entropy: probs must lie in [0, 1], got {} at "
                        "element {} of shape {} (target {})",
                        static_cast<double>(p[i]), i, format_shape(probs.shape()),
                        format_shape(target.shape())));
      const T log_p = std::max(std::log(p[i]), T(-100));
      const T log_q = std::max(std::log1p(-p[i]), T(-100));
      o[i] = -(t[i] * log_p + (1 - t[i]) * log_q);
    }
  });
  // dL/dp = (p − y) / max(p(1 − p), 1e-12)  (PyTorch's guard, finite at p = 0 and 1)
  // dL/dy = max(log(1 − p), −100) − max(log p, −100), with log1p for log(1 − p) as the forward
  return record(
      "binary_cross_entropy", out, {&probs, &target},
      [p_saved = SavedTensor(probs), t_saved = SavedTensor(target)](const Tensor& g) -> Gradients {
        const Tensor& p = p_saved.unpack();
        const Tensor& labels = t_saved.unpack();
        const Tensor floor_eps = scalar(1e-12, {.dtype = p.dtype()});
        const Tensor floor_log = scalar(-100.0, {.dtype = p.dtype()});
        Tensor grad_probs, grad_target;
        if (p.requires_grad())
          grad_probs = g * (p - labels.to(p.dtype())) / maximum(p * (1.0 - p), floor_eps);
        if (labels.requires_grad())
          grad_target =
              (g * (maximum(log1p(-p), floor_log) - maximum(log(p), floor_log))).to(labels.dtype());
        return {grad_probs, grad_target};
      });
}

// BCE with logits' gradients over n elements, from e = exp(−|x|) kept by the forward:
// dx = f·(σ(x) − t) with σ(x) written so that neither branch overflows (as tg::sigmoid), and
// dt = −f·x; either output may be null, and f has one element per term or, when not
// `per_element`, one for all. __restrict buffers in a function of their own, so the loops
// vectorise.
template <class T>
[[gnu::noinline]] void bce_with_logits_gradients(const T* __restrict x, const T* __restrict t,
                                                 const T* __restrict e, const T* __restrict f,
                                                 bool per_element, T* __restrict dx,
                                                 T* __restrict dt, int64_t n) {
  if (dx != nullptr)
    for (int64_t i = 0; i < n; ++i) {
      const T sigma = x[i] >= 0 ? T(1) / (T(1) + e[i]) : e[i] / (T(1) + e[i]);
      dx[i] = f[per_element ? i : 0] * (sigma - t[i]);
    }
  if (dt != nullptr)
    for (int64_t i = 0; i < n; ++i) dt[i] = -f[per_element ? i : 0] * x[i];
}

Tensor fused_bce_with_logits(const Tensor& logits, const Tensor& target, Reduction reduction) {
  if (any_strided({&logits, &target}))  // strided inputs: contiguous copies
    return fused_bce_with_logits(contiguous_of(logits), contiguous_of(target), reduction);
  const AllocationSite site(
      "binary_cross_entropy_with_logits");  // a failed allocation names the op
  Tensor terms = empty(logits.shape(), logits.dtype());
  const Tensor y = as_dtype(target, logits.dtype());
  // exp(−|x|), kept for the backward when there will be one: recomputing it there cost as much
  // as the rest of the backward (a libm call an element).
  Tensor exps =
      should_record({&logits, &target}) ? empty(logits.shape(), logits.dtype()) : Tensor();
  dispatch_floating("binary_cross_entropy_with_logits", logits.dtype(), [&]<class T>() {
    const T* x = data_of<T>(logits);
    const T* t = data_of<T>(y);
    T* o = data_of<T>(terms);
    T* kept = exps.defined() ? data_of<T>(exps) : nullptr;
    for (int64_t i = 0, end = logits.numel(); i < end; ++i) {
      const T e = std::exp(-std::abs(x[i]));
      if (kept != nullptr) kept[i] = e;
      o[i] = std::max(x[i], T(0)) - x[i] * t[i] + std::log1p(e);
    }
  });
  const double count = static_cast<double>(logits.numel());
  Tensor out = reduce_terms(terms, reduction, count);
  // dL/dx = f·(sigmoid(x) − y),  dL/dy = −f·x,  with f the gradient each term receives: g/n for
  // mean (0/0 = NaN over no elements, as the mean itself), g for sum, g elementwise for none.
  return record("binary_cross_entropy_with_logits", out, {&logits, &target},
                [x_saved = SavedTensor(logits), t_saved = SavedTensor(target),
                 e_saved = SavedTensor(exps), reduction](const Tensor& g) -> Gradients {
                  const Tensor& x = x_saved.unpack();
                  const Tensor& t = t_saved.unpack();
                  const Tensor factor =
                      reduction == Reduction::mean ? g / static_cast<double>(x.numel()) : g;
                  if (is_grad_enabled()) {  // create_graph: the same formula from recorded ops
                    Tensor grad_logits, grad_target;
                    if (x.requires_grad()) grad_logits = factor * (sigmoid(x) - t.to(x.dtype()));
                    if (t.requires_grad()) grad_target = (-(factor * x)).to(t.dtype());
                    return {grad_logits, grad_target};
                  }
                  const Tensor y_values = as_dtype(t, x.dtype());
                  Tensor grad_logits = x.requires_grad() ? empty(x.shape(), x.dtype()) : Tensor();
                  Tensor grad_target = t.requires_grad() ? empty(x.shape(), x.dtype()) : Tensor();
                  dispatch_floating("binary_cross_entropy_with_logits", x.dtype(), [&]<class T>() {
                    bce_with_logits_gradients(
                        data_of<T>(x), data_of<T>(y_values), data_of<T>(e_saved.unpack()),
                        data_of<T>(factor), reduction == Reduction::none,
                        grad_logits.defined() ? data_of<T>(grad_logits) : nullptr,
                        grad_target.defined() ? data_of<T>(grad_target) : nullptr, x.numel());
                  });
                  if (grad_target.defined()) grad_target = as_dtype(grad_target, t.dtype());
                  return {grad_logits, grad_target};
                });
}

// mse_loss's gradient terms (x − y)·norm·g over n elements, g one element per term or, when not
// `per_element`, one for all. A function of its own with __restrict buffers and the branch
// outside the loops, so that they vectorise: inline, they ran ~30 instructions an element.
template <class T>
[[gnu::noinline]] void mse_terms(const T* __restrict x, const T* __restrict y,
                                 const T* __restrict g, bool per_element, T norm, T* __restrict out,
                                 int64_t n) {
  if (per_element)
    for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - y[i]) * norm * g[i];
  else
    for (int64_t i = 0; i < n; ++i) out[i] = (x[i] - y[i]) * norm * g[0];
}

// (input − target)², reduced, in one record. With d = input − target and f the gradient each
// term receives (g for sum, g/n for mean, g elementwise for none):
//   d/dinput = 2·d·f,   d/dtarget = −2·d·f
// computed as PyTorch's mse_loss_backward does, (d·norm)·g with norm = 2/n for mean, else 2.
Tensor fused_mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  if (any_strided({&input, &target}))  // strided inputs: contiguous copies
    return fused_mse_loss(contiguous_of(input), contiguous_of(target), reduction);
  const AllocationSite site("mse_loss");  // a failed allocation names the op
  const int64_t n = input.numel();
  Tensor out = empty(reduction == Reduction::none ? input.shape() : Shape{}, input.dtype());
  dispatch_floating("mse_loss", input.dtype(), [&]<class T>() {
    const T* x = data_of<T>(input);
    const T* y = data_of<T>(target);
    T* o = data_of<T>(out);
    double total = 0;  // summed in double, as the other fused losses
    for (int64_t i = 0; i < n; ++i) {
      const T d = x[i] - y[i];
      if (reduction == Reduction::none)
        o[i] = d * d;
      else
        total += static_cast<double>(d * d);
    }
    if (reduction != Reduction::none)
      o[0] = static_cast<T>(reduction == Reduction::mean ? total / static_cast<double>(n) : total);
  });
  return record("mse_loss", out, {&input, &target},
                [x_saved = SavedTensor(input), y_saved = SavedTensor(target),
                 reduction](const Tensor& g) -> Gradients {
                  const Tensor& x = x_saved.unpack();
                  const Tensor& y = y_saved.unpack();
                  const double norm =
                      reduction == Reduction::mean ? 2.0 / static_cast<double>(x.numel()) : 2.0;
                  if (is_grad_enabled()) {  // create_graph: the same formula from recorded ops
                    const Tensor grad_input = (x - y) * norm * g;
                    return {x.requires_grad() ? grad_input : Tensor(),
                            y.requires_grad() ? -grad_input : Tensor()};
                  }
                  Tensor grad_input = x.requires_grad() ? empty(x.shape(), x.dtype()) : Tensor();
                  Tensor grad_target = y.requires_grad() ? empty(y.shape(), y.dtype()) : Tensor();
                  dispatch_floating("mse_loss", x.dtype(), [&]<class T>() {
                    const T* xv = data_of<T>(x);
                    const T* yv = data_of<T>(y);
                    const bool per_element = reduction == Reduction::none;
                    const int64_t count = x.numel();
                    T* dx = grad_input.defined() ? data_of<T>(grad_input) : nullptr;
                    T* dy = grad_target.defined() ? data_of<T>(grad_target) : nullptr;
                    if (dx != nullptr)
                      mse_terms(xv, yv, data_of<T>(g), per_element, T(norm), dx, count);
                    if (dy == nullptr) return;
                    if (dx == nullptr)
                      mse_terms(xv, yv, data_of<T>(g), per_element, T(norm), dy, count);
                    const T* terms = dx != nullptr ? dx : dy;
                    for (int64_t i = 0; i < count; ++i) dy[i] = -terms[i];
                  });
                  return {grad_input, grad_target};
                });
}

}  // namespace
}  // namespace tg::detail

namespace tg {

void check_loss_shapes(const char* loss, const char* input_name, const Tensor& input,
                       const Tensor& target) {
  if (!input.defined() || !target.defined())
    throw Error(fmt::format("{}: {} and target must be defined tensors", loss, input_name));
  if (input.shape() != target.shape())
    throw Error(fmt::format("{}: {} of shape {} and target of shape {} must have equal shapes",
                            loss, input_name, format_shape(input.shape()),
                            format_shape(target.shape())));
}

void check_loss_floating(const char* loss, const char* name, const Tensor& tensor) {
  if (!is_floating(tensor.dtype()))
    throw Error(fmt::format("{}: {} of shape {} must be f32 or f64, got {}", loss, name,
                            format_shape(tensor.shape()), dtype_name(tensor.dtype())));
}

namespace {

// Elementwise losses do not broadcast: both tensors defined, of equal shapes, the input floating.
void check_elementwise_loss(const char* loss, const char* input_name, const Tensor& input,
                            const Tensor& target) {
  check_loss_shapes(loss, input_name, input, target);
  check_loss_floating(loss, input_name, input);
}

}  // namespace

Tensor reduce(const Tensor& terms, Reduction reduction) {
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

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_loss_shapes("mse_loss", "input", input, target);
  // Integer or mixed dtypes keep the ops' promotion rules through the composed form.
  if (!is_floating(input.dtype()) || target.dtype() != input.dtype()) {
    const Tensor difference = input - target;
    return reduce(difference * difference, reduction);
  }
  return detail::fused_mse_loss(input, target, reduction);
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction) {
  check_elementwise_loss("binary_cross_entropy", "probs", probs, target);
  return reduce(detail::bce_terms(probs, target), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
  check_elementwise_loss("binary_cross_entropy_with_logits", "logits", logits, target);
  return detail::fused_bce_with_logits(logits, target, reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
  return cross_entropy(logits, target, CrossEntropyOptions{.reduction = reduction});
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options) {
  if (!(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0))
    throw Error(fmt::format("cross_entropy: label_smoothing must lie in [0, 1], got {} (logits {})",
                            options.label_smoothing,
                            logits.defined() ? format_shape(logits.shape()) : "undefined"));
  return detail::fused_cross_entropy(logits, target, options.weight, options.ignore_index,
                                     options.reduction, options.label_smoothing);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  return nll_loss(log_probs, target, NLLLossOptions{.reduction = reduction});
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const NLLLossOptions& options) {
  return detail::fused_nll_loss(log_probs, target, options.weight, options.ignore_index,
                                options.reduction);
}

}  // namespace tg
