// Classification losses: binary cross-entropy (on probabilities and on logits), softmax
// cross-entropy, negative log-likelihood and KL divergence.
#include <algorithm>
#include <cmath>
#include <limits>

#include "functional/loss_common.hpp"
#include "tapegrad/autograd/function.hpp"
#include "tapegrad/autograd/grad_mode.hpp"

namespace tg::nn::functional {

namespace detail {

int64_t check_class_targets(const char* loss, const char* input_name, const Tensor& input,
                            const Tensor& target) {
  if (!input.defined() || !target.defined())
    throw Error(fmt::format("{}: {} and target must be defined tensors", loss, input_name));
  check_floating(loss, input_name, input);
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
  const int64_t* index = target.data<int64_t>();
  for (int64_t i = 0, end = target.numel(); i < end; ++i)
    if (index[i] < 0 || index[i] >= classes)
      throw Error(
          fmt::format("{}: target {} at position {} is out of range [0, {}) for {} of "
                      "shape {}",
                      loss, index[i], i, classes, input_name, format_shape(input.shape())));
  return classes;
}

}  // namespace detail

namespace {

using autograd::AutogradContext;

// The gradient `g` of a reduced output as the factor each per-sample term receives.
Tensor per_term_factor(const Tensor& g, Reduction reduction, int64_t count) {
  if (reduction == Reduction::mean) return g / static_cast<double>(count);
  return g;
}

// −(y·max(log p, −100) + (1 − y)·max(log(1 − p), −100)), elementwise, as PyTorch.
struct BinaryCrossEntropy : autograd::Function<BinaryCrossEntropy> {
  static constexpr const char* name = "binary_cross_entropy";

  static Tensor forward(AutogradContext* ctx, const Tensor& probs, const Tensor& target) {
    ctx->save_for_backward({probs, target});
    const Tensor y = target.to(probs.dtype());
    Tensor out = zeros(probs.shape(), {.dtype = probs.dtype()});
    detail::dispatch_floating(name, probs.dtype(), [&]<class T>() {
      const T* p = probs.data<T>();
      const T* t = y.data<T>();
      T* o = out.data<T>();
      for (int64_t i = 0, end = probs.numel(); i < end; ++i) {
        const T log_p = std::max(std::log(p[i]), T(-100));
        const T log_q = std::max(std::log1p(-p[i]), T(-100));
        o[i] = -(t[i] * log_p + (1 - t[i]) * log_q);
      }
    });
    return out;
  }

  // dL/dp = (p − y) / max(p(1 − p), 1e-12)  (PyTorch's guard, finite at p = 0 and 1)
  // dL/dy = max(log(1 − p), −100) − max(log p, −100)
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_outputs) {
    const std::vector<Tensor> saved = ctx->get_saved_variables();
    const Tensor& p = saved[0];
    const Tensor& target = saved[1];
    const Tensor& g = grad_outputs[0];
    const Tensor floor_eps = scalar(1e-12, {.dtype = p.dtype()});
    const Tensor floor_log = scalar(-100.0, {.dtype = p.dtype()});
    Tensor grad_probs, grad_target;
    if (p.requires_grad())
      grad_probs = g * (p - target.to(p.dtype())) / maximum(p * (1.0 - p), floor_eps);
    if (target.requires_grad())
      grad_target =
          (g * (maximum(log(1.0 - p), floor_log) - maximum(log(p), floor_log))).to(target.dtype());
    return {grad_probs, grad_target};
  }
};

// max(x, 0) − x·y + log1p(exp(−|x|)), elementwise: never the log of 0.
struct BinaryCrossEntropyWithLogits : autograd::Function<BinaryCrossEntropyWithLogits> {
  static constexpr const char* name = "binary_cross_entropy_with_logits";

  static Tensor forward(AutogradContext* ctx, const Tensor& logits, const Tensor& target) {
    ctx->save_for_backward({logits, target});
    const Tensor y = target.to(logits.dtype());
    Tensor out = zeros(logits.shape(), {.dtype = logits.dtype()});
    detail::dispatch_floating(name, logits.dtype(), [&]<class T>() {
      const T* x = logits.data<T>();
      const T* t = y.data<T>();
      T* o = out.data<T>();
      for (int64_t i = 0, end = logits.numel(); i < end; ++i)
        o[i] = std::max(x[i], T(0)) - x[i] * t[i] + std::log1p(std::exp(-std::abs(x[i])));
    });
    return out;
  }

  // dL/dx = sigmoid(x) − y,  dL/dy = −x
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_outputs) {
    const std::vector<Tensor> saved = ctx->get_saved_variables();
    const Tensor& x = saved[0];
    const Tensor& target = saved[1];
    const Tensor& g = grad_outputs[0];
    Tensor grad_logits, grad_target;
    if (x.requires_grad()) grad_logits = g * (tg::sigmoid(x) - target.to(x.dtype()));
    if (target.requires_grad()) grad_target = (-(g * x)).to(target.dtype());
    return {grad_logits, grad_target};
  }
};

// Softmax cross-entropy of [N, C] logits, reduced in the same record:
// loss_i = logsumexp(z_i) − z_i[y_i], with the row maximum subtracted before exp.
struct CrossEntropy : autograd::Function<CrossEntropy> {
  static constexpr const char* name = "cross_entropy";

  static Tensor forward(AutogradContext* ctx, const Tensor& logits, const Tensor& target,
                        Reduction reduction) {
    ctx->save_for_backward({logits, target});
    ctx->saved_data["reduction"] = static_cast<double>(static_cast<int>(reduction));
    const int64_t rows = logits.size(0);
    const int64_t classes = logits.size(1);
    Tensor losses = zeros({rows}, {.dtype = logits.dtype()});
    const int64_t* index = target.data<int64_t>();
    detail::dispatch_floating(name, logits.dtype(), [&]<class T>() {
      const T* z = logits.data<T>();
      T* o = losses.data<T>();
      for (int64_t i = 0; i < rows; ++i) {
        const T* row = z + i * classes;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t c = 0; c < classes; ++c) m = std::max(m, row[c]);
        if (!std::isfinite(m)) m = 0;
        T total = 0;
        for (int64_t c = 0; c < classes; ++c) total += std::exp(row[c] - m);
        o[i] = m + std::log(total) - row[index[i]];
      }
    });
    return detail::reduce(losses, reduction);
  }

  // dL_i/dz_i = softmax(z_i) − onehot(y_i), times the gradient each term receives
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_outputs) {
    const std::vector<Tensor> saved = ctx->get_saved_variables();
    const Tensor& logits = saved[0];
    const Tensor& target = saved[1];
    const auto reduction = static_cast<Reduction>(static_cast<int>(ctx->saved_data["reduction"]));
    const int64_t rows = logits.size(0);
    const int64_t classes = logits.size(1);
    const int64_t* index = target.data<int64_t>();
    const Tensor factor = per_term_factor(grad_outputs[0], reduction, rows);
    if (is_grad_enabled()) {  // create_graph: build the gradient from recorded ops
      Tensor onehot = zeros(logits.shape(), {.dtype = logits.dtype()});
      detail::dispatch_floating(name, logits.dtype(), [&]<class T>() {
        T* h = onehot.data<T>();
        for (int64_t i = 0; i < rows; ++i) h[i * classes + index[i]] = 1;
      });
      const Tensor scale = reduction == Reduction::none ? unsqueeze(factor, 1) : factor;
      return {(tg::softmax(logits, 1) - onehot) * scale, Tensor()};
    }
    const std::vector<double> scale = factor.to_vector();
    Tensor grad = zeros(logits.shape(), {.dtype = logits.dtype()});
    detail::dispatch_floating(name, logits.dtype(), [&]<class T>() {
      const T* z = logits.data<T>();
      T* d = grad.data<T>();
      for (int64_t i = 0; i < rows; ++i) {
        const T* row = z + i * classes;
        T* out = d + i * classes;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t c = 0; c < classes; ++c) m = std::max(m, row[c]);
        if (!std::isfinite(m)) m = 0;
        T total = 0;
        for (int64_t c = 0; c < classes; ++c) total += (out[c] = std::exp(row[c] - m));
        const T s = static_cast<T>(scale.size() == 1 ? scale[0] : scale[static_cast<size_t>(i)]);
        for (int64_t c = 0; c < classes; ++c) out[c] = out[c] / total * s;
        out[index[i]] -= s;
      }
    });
    return {grad, Tensor()};
  }
};

}  // namespace

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& target, Reduction reduction) {
  detail::check_same_shape("binary_cross_entropy", "probs", probs, target);
  detail::check_floating("binary_cross_entropy", "probs", probs);
  detail::dispatch_floating("binary_cross_entropy", probs.dtype(), [&]<class T>() {
    const T* p = probs.data<T>();
    for (int64_t i = 0, end = probs.numel(); i < end; ++i)
      if (!(p[i] >= 0 && p[i] <= 1))
        throw Error(
            fmt::format("binary_cross_entropy: probs must lie in [0, 1], got {} at "
                        "element {} of shape {} (target {})",
                        static_cast<double>(p[i]), i, format_shape(probs.shape()),
                        format_shape(target.shape())));
  });
  return detail::reduce(BinaryCrossEntropy::apply(probs, target), reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& target,
                                        Reduction reduction) {
  detail::check_same_shape("binary_cross_entropy_with_logits", "logits", logits, target);
  detail::check_floating("binary_cross_entropy_with_logits", "logits", logits);
  return detail::reduce(BinaryCrossEntropyWithLogits::apply(logits, target), reduction);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction) {
  detail::check_class_targets("cross_entropy", "logits", logits, target);
  if (logits.dim() == 1)
    return CrossEntropy::apply(logits.reshape({1, -1}), target.reshape({1}), reduction).reshape({});
  return CrossEntropy::apply(logits, target, reduction);
}

// d(−log_probs[i, y_i])/dlog_probs = −onehot(y_i), through gather's backward (scatter_add)
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  detail::check_class_targets("nll_loss", "log_probs", log_probs, target);
  if (log_probs.dim() == 1)
    return nll_loss(log_probs.reshape({1, -1}), target.reshape({1}), reduction).reshape({});
  const Tensor picked = log_probs.gather(1, target.unsqueeze(1)).squeeze(1);
  return detail::reduce(-picked, reduction);
}

// mask = [target ≠ 0], t' = target where mask else 1; term = mask·target·(log t' − log_input).
// d/dlog_input = −target;  d/dtarget = mask·(log target + 1 − log_input), 0 where target is 0
// (PyTorch's convention; the one-sided derivative of t·log t there is −∞).
Tensor kl_div(const Tensor& log_input, const Tensor& target, Reduction reduction) {
  detail::check_same_shape("kl_div", "log_input", log_input, target);
  detail::check_floating("kl_div", "log_input", log_input);
  detail::check_floating("kl_div", "target", target);
  const Tensor mask = ne(target, zeros({}, {.dtype = target.dtype()}));
  const Tensor safe_target = target + (1.0 - mask);
  return detail::reduce(mask * (target * (log(safe_target) - log_input)), reduction);
}

}  // namespace tg::nn::functional
