// layer_norm and batch_norm: one fused record each, whose backward is recorded from ops under
// create_graph so that second derivatives flow.
#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <vector>

#include "kernels.hpp"
#include "record.hpp"
#include "storage.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg {
namespace {

// Both ops normalise groups of a tensor seen as [outer, channels, inner]: the statistics of
// channel c run over its outer·inner elements. layer_norm is [1, rows, normalized numel] with a
// weight per inner position; batch_norm is [N, C, L] with a weight per channel.
struct Layout {
  int64_t outer = 1, channels = 1, inner = 1;
  bool weight_per_channel = true;

  int64_t group_size() const { return outer * inner; }
  int64_t affine_index(int64_t channel, int64_t position) const {
    return weight_per_channel ? channel : position;
  }
  Shape shape() const { return {outer, channels, inner}; }
  // The shape that broadcasts a weight over [outer, channels, inner].
  Shape affine_shape() const {
    return weight_per_channel ? Shape{1, channels, 1} : Shape{1, 1, inner};
  }
};

// Visits every element of channel c as f(flat index, inner position).
template <class F>
void for_each_in_channel(const Layout& layout, int64_t channel, F&& f) {
  for (int64_t o = 0; o < layout.outer; ++o) {
    const int64_t base = (o * layout.channels + channel) * layout.inner;
    for (int64_t i = 0; i < layout.inner; ++i) f(base + i, i);
  }
}

// Each channel's mean and 1/√(var + eps), the variance biased; `biased_var` receives the variance.
void batch_statistics(const Tensor& x, const Layout& layout, double eps, std::vector<double>& mean,
                      std::vector<double>& rstd, std::vector<double>& biased_var) {
  const auto channels = static_cast<size_t>(layout.channels);
  mean.assign(channels, 0.0);
  rstd.assign(channels, 0.0);
  biased_var.assign(channels, 0.0);
  const auto count = static_cast<double>(layout.group_size());
  detail::dispatch_floating("normalization", x.dtype(), [&]<class T>() {
    const T* v = detail::data_of<T>(x);
    for (int64_t c = 0; c < layout.channels; ++c) {
      const auto uc = static_cast<size_t>(c);
      double total = 0;  // two passes in double: no cancellation for inputs far from 0
      for_each_in_channel(layout, c,
                          [&](int64_t k, int64_t) { total += static_cast<double>(v[k]); });
      mean[uc] = total / count;
      double squares = 0;
      for_each_in_channel(layout, c, [&](int64_t k, int64_t) {
        const double d = static_cast<double>(v[k]) - mean[uc];
        squares += d * d;
      });
      biased_var[uc] = squares / count;
      rstd[uc] = 1.0 / std::sqrt(biased_var[uc] + eps);
    }
  });
}

// y = (x − mean_c)·rstd_c·w + b
Tensor normalize(const Tensor& x, const Layout& layout, const std::vector<double>& mean,
                 const std::vector<double>& rstd, const Tensor& weight, const Tensor& bias) {
  Tensor out = detail::empty(x.shape(), x.dtype());
  detail::dispatch_floating("normalization", x.dtype(), [&]<class T>() {
    const T* v = detail::data_of<T>(x);
    const T* w = weight.defined() ? detail::data_of<T>(weight) : nullptr;
    const T* b = bias.defined() ? detail::data_of<T>(bias) : nullptr;
    T* y = detail::data_of<T>(out);
    for (int64_t c = 0; c < layout.channels; ++c) {
      const auto uc = static_cast<size_t>(c);
      const T m = static_cast<T>(mean[uc]), r = static_cast<T>(rstd[uc]);
      for_each_in_channel(layout, c, [&](int64_t k, int64_t i) {
        const int64_t a = layout.affine_index(c, i);
        y[k] = (v[k] - m) * r * (w ? w[a] : T(1)) + (b ? b[a] : T(0));
      });
    }
  });
  return out;
}

// The gradients of y = x̂·w + b with x̂ = (x − mean)·rstd, n = outer·inner per channel:
//   dL/dw = Σ g·x̂,  dL/db = Σ g  (over everything but the weight's own index)
//   batch statistics:  dL/dx = rstd·(g·w − mean_c(g·w) − x̂·mean_c(g·w·x̂))
//   fixed statistics:  dL/dx = rstd·g·w
// computed here in one pass per channel; normalize_backward_recorded is the same from ops.
Gradients normalize_backward(const Tensor& g, const Tensor& x, const Layout& layout,
                             const std::vector<double>& mean, const std::vector<double>& rstd,
                             const Tensor& weight, const Shape* bias_shape, bool batch_stats) {
  const bool has_bias = bias_shape != nullptr;
  Tensor grad_x = x.requires_grad() ? detail::empty(x.shape(), x.dtype()) : Tensor();
  Tensor grad_weight, grad_bias;
  detail::dispatch_floating("normalization", x.dtype(), [&]<class T>() {
    const T* v = detail::data_of<T>(x);
    const T* d = detail::data_of<T>(g);
    const T* w = weight.defined() ? detail::data_of<T>(weight) : nullptr;
    const int64_t affine_count = layout.weight_per_channel ? layout.channels : layout.inner;
    std::vector<double> sum_w(weight.defined() ? static_cast<size_t>(affine_count) : 0, 0.0);
    std::vector<double> sum_b(has_bias ? static_cast<size_t>(affine_count) : 0, 0.0);
    const auto count = static_cast<double>(layout.group_size());
    for (int64_t c = 0; c < layout.channels; ++c) {
      const auto uc = static_cast<size_t>(c);
      const double m = mean[uc], r = rstd[uc];
      double sum_gw = 0, sum_gw_xhat = 0;
      for_each_in_channel(layout, c, [&](int64_t k, int64_t i) {
        const int64_t a = layout.affine_index(c, i);
        const double xhat = (static_cast<double>(v[k]) - m) * r;
        const double gw = static_cast<double>(d[k]) * (w ? static_cast<double>(w[a]) : 1.0);
        sum_gw += gw;
        sum_gw_xhat += gw * xhat;
        if (w) sum_w[static_cast<size_t>(a)] += static_cast<double>(d[k]) * xhat;
        if (has_bias) sum_b[static_cast<size_t>(a)] += static_cast<double>(d[k]);
      });
      if (!grad_x.defined()) continue;
      T* dx = detail::data_of<T>(grad_x);
      for_each_in_channel(layout, c, [&](int64_t k, int64_t i) {
        const int64_t a = layout.affine_index(c, i);
        const double gw = static_cast<double>(d[k]) * (w ? static_cast<double>(w[a]) : 1.0);
        if (!batch_stats) {
          dx[k] = static_cast<T>(r * gw);
          return;
        }
        const double xhat = (static_cast<double>(v[k]) - m) * r;
        dx[k] = static_cast<T>(r * (gw - sum_gw / count - xhat * sum_gw_xhat / count));
      });
    }
    auto as_tensor = [&](const std::vector<double>& values) {
      return detail::as_dtype(tensor(values, {affine_count}, {.dtype = DType::f64}), x.dtype());
    };
    if (weight.defined() && weight.requires_grad())
      grad_weight = reshape(as_tensor(sum_w), weight.shape());
    if (has_bias) grad_bias = reshape(as_tensor(sum_b), *bias_shape);
  });
  return {grad_x, grad_weight, grad_bias};
}

// Channel means and sums of a [outer, channels, inner] tensor, recorded.
Tensor channel_mean(const Tensor& t) { return mean(mean(t, 2, true), 0, true); }
Tensor affine_sum(const Tensor& t, const Layout& layout) {
  return layout.weight_per_channel ? sum(sum(t, 2), 0) : sum(sum(t, 1), 0);
}

// normalize_backward's formulas from recorded ops, so that the gradient is differentiable in x,
// weight and g (create_graph). With fixed statistics, mean and rstd are constants.
Gradients normalize_backward_recorded(const Tensor& g, const Tensor& x, const Layout& layout,
                                      const std::vector<double>& mean_values,
                                      const std::vector<double>& rstd_values, double eps,
                                      const Tensor& weight, const Shape* bias_shape,
                                      bool batch_stats) {
  const Tensor x3 = reshape(x, layout.shape());
  const Tensor g3 = reshape(g, layout.shape());
  Tensor xhat, rstd;
  if (batch_stats) {
    const Tensor centred = x3 - channel_mean(x3);
    rstd = 1.0 / sqrt(channel_mean(centred * centred) + eps);
    xhat = centred * rstd;
  } else {
    const Shape stat_shape{1, layout.channels, 1};
    const Tensor mean_constant =
        detail::as_dtype(tensor(mean_values, stat_shape, {.dtype = DType::f64}), x.dtype());
    rstd = detail::as_dtype(tensor(rstd_values, stat_shape, {.dtype = DType::f64}), x.dtype());
    xhat = (x3 - mean_constant) * rstd;
  }
  const Tensor gw = weight.defined() ? g3 * reshape(weight, layout.affine_shape()) : g3;
  Tensor grad_x;
  if (x.requires_grad()) {
    grad_x =
        batch_stats ? rstd * (gw - channel_mean(gw) - xhat * channel_mean(gw * xhat)) : rstd * gw;
    grad_x = reshape(grad_x, x.shape());
  }
  Tensor grad_weight, grad_bias;
  if (weight.defined() && weight.requires_grad())
    grad_weight = reshape(affine_sum(g3 * xhat, layout), weight.shape());
  if (bias_shape != nullptr) grad_bias = reshape(affine_sum(g3, layout), *bias_shape);
  return {grad_x, grad_weight, grad_bias};
}

void check_affine(const char* op, const char* name, const Tensor& t, const Tensor& input,
                  const Shape& expected) {
  if (!t.defined()) return;
  if (t.shape() != expected || t.dtype() != input.dtype())
    throw Error(fmt::format("{}: {} must be {} {} for input {} {}, got {} {}", op, name,
                            dtype_name(input.dtype()), format_shape(expected),
                            dtype_name(input.dtype()), format_shape(input.shape()),
                            dtype_name(t.dtype()), format_shape(t.shape())));
}

void check_eps(const char* op, double eps) {
  if (!(eps >= 0) || !std::isfinite(eps))
    throw Error(fmt::format("{}: eps must be finite and >= 0, got {}", op, eps));
}

// Records the fused op: forward value `out` from (input, weight, bias), with its backward. The
// backward reads the input's and the weight's values through version-checked handles; of the
// bias it needs only the shape, so a write into the bias leaves the gradient right.
Tensor record_normalization(const char* name, Tensor out, const Tensor& input, const Tensor& weight,
                            const Tensor& bias, const Layout& layout, std::vector<double> mean,
                            std::vector<double> rstd, double eps, bool batch_stats) {
  return detail::record(
      name, std::move(out), {&input, &weight, &bias},
      [input = detail::SavedTensor(input), weight = detail::SavedTensor(weight),
       bias_shape = bias.defined() ? std::optional<Shape>(bias.shape()) : std::nullopt, layout,
       mean = std::move(mean), rstd = std::move(rstd), eps,
       batch_stats](const Tensor& g) -> Gradients {
        const Tensor& x = input.unpack();
        const Tensor& w = weight.unpack();
        const Shape* b = bias_shape ? &*bias_shape : nullptr;
        if (is_grad_enabled())
          return normalize_backward_recorded(g, x, layout, mean, rstd, eps, w, b, batch_stats);
        return normalize_backward(detail::as_dtype(g, x.dtype()), x, layout, mean, rstd, w, b,
                                  batch_stats);
      });
}

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  if (detail::any_strided({&input, &weight, &bias}))  // strided inputs: contiguous copies
    return layer_norm(detail::contiguous_of(input), normalized_shape, detail::contiguous_of(weight),
                      detail::contiguous_of(bias), eps);
  const detail::AllocationSite site("layer_norm");  // a failed allocation names the op
  const auto trailing = static_cast<int64_t>(normalized_shape.size());
  if (!input.defined() || !is_floating(input.dtype()))
    throw Error(fmt::format("layer_norm: input must be an f32 or f64 tensor, got {}",
                            input.defined() ? dtype_name(input.dtype()) : "undefined"));
  bool matches = trailing > 0 && trailing <= input.dim();
  for (int64_t k = 0; matches && k < trailing; ++k)
    matches = input.shape()[static_cast<size_t>(input.dim() - trailing + k)] ==
              normalized_shape[static_cast<size_t>(k)];
  if (!matches)
    throw Error(fmt::format("layer_norm: input of shape {} does not end with normalized_shape {}",
                            format_shape(input.shape()), format_shape(normalized_shape)));
  check_affine("layer_norm", "weight", weight, input, normalized_shape);
  check_affine("layer_norm", "bias", bias, input, normalized_shape);
  check_eps("layer_norm", eps);
  Layout layout;
  layout.weight_per_channel = false;
  for (int64_t size : normalized_shape) layout.inner *= size;
  layout.channels = input.numel() / std::max<int64_t>(layout.inner, 1);
  if (layout.inner == 0) layout.channels = 0;
  std::vector<double> mean, rstd, biased_var;
  batch_statistics(input, layout, eps, mean, rstd, biased_var);
  Tensor out = normalize(input, layout, mean, rstd, weight, bias);
  return record_normalization("layer_norm", std::move(out), input, weight, bias, layout,
                              std::move(mean), std::move(rstd), eps, /*batch_stats=*/true);
}

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  if (detail::any_strided({&input, &weight, &bias}))  // strided inputs: contiguous copies
    return batch_norm(detail::contiguous_of(input), running_mean, running_var,
                      detail::contiguous_of(weight), detail::contiguous_of(bias), training,
                      momentum, eps);
  const detail::AllocationSite site("batch_norm");  // a failed allocation names the op
  if (!input.defined() || !is_floating(input.dtype()) || (input.dim() != 2 && input.dim() != 3))
    throw Error(
        fmt::format("batch_norm: input must be an f32 or f64 [N, C] or [N, C, L] tensor, "
                    "got {} {}",
                    input.defined() ? dtype_name(input.dtype()) : "undefined",
                    input.defined() ? format_shape(input.shape()) : "[]"));
  const int64_t channels = input.size(1);
  const Shape channel_shape{channels};
  check_affine("batch_norm", "weight", weight, input, channel_shape);
  check_affine("batch_norm", "bias", bias, input, channel_shape);
  check_affine("batch_norm", "running_mean", running_mean, input, channel_shape);
  check_affine("batch_norm", "running_var", running_var, input, channel_shape);
  check_eps("batch_norm", eps);
  if (running_mean.defined() != running_var.defined())
    throw Error("batch_norm: running_mean and running_var must both be given or both be absent");
  if (!training && !running_mean.defined())
    throw Error(fmt::format(
        "batch_norm: evaluation (training = false) needs running_mean and running_var (input {})",
        format_shape(input.shape())));
  if (!(momentum >= 0 && momentum <= 1))
    throw Error(fmt::format("batch_norm: momentum must lie in [0, 1], got {}", momentum));
  Layout layout{.outer = input.size(0),
                .channels = channels,
                .inner = input.dim() == 3 ? input.size(2) : 1,
                .weight_per_channel = true};
  std::vector<double> mean, rstd, biased_var;
  if (training) {
    if (layout.group_size() <= 1)
      throw Error(
          fmt::format("batch_norm: training needs more than 1 value per channel, got "
                      "input of shape {}",
                      format_shape(input.shape())));
    batch_statistics(input, layout, eps, mean, rstd, biased_var);
    if (running_mean.defined()) {
      // The running variance is the unbiased estimate, as PyTorch's.
      const double unbiased =
          static_cast<double>(layout.group_size()) / static_cast<double>(layout.group_size() - 1);
      detail::dispatch_floating("batch_norm", input.dtype(), [&]<class T>() {
        T* rm = detail::data_of<T>(running_mean);
        T* rv = detail::data_of<T>(running_var);
        for (int64_t c = 0; c < channels; ++c) {
          const auto uc = static_cast<size_t>(c);
          rm[c] = static_cast<T>((1 - momentum) * static_cast<double>(rm[c]) + momentum * mean[uc]);
          rv[c] = static_cast<T>((1 - momentum) * static_cast<double>(rv[c]) +
                                 momentum * biased_var[uc] * unbiased);
        }
      });
    }
  } else {
    mean = running_mean.to_vector();
    const std::vector<double> var = running_var.to_vector();
    rstd.resize(var.size());
    for (size_t c = 0; c < var.size(); ++c) rstd[c] = 1.0 / std::sqrt(var[c] + eps);
  }
  Tensor out = normalize(input, layout, mean, rstd, weight, bias);
  return record_normalization("batch_norm", std::move(out), input, weight, bias, layout,
                              std::move(mean), std::move(rstd), eps, training);
}

}  // namespace tg
