// Layers without parameters as modules: the activations, Flatten and Identity.
#pragma once

#include <cstdint>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// max(x, 0), elementwise.
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

/// 1 / (1 + exp(−x)), elementwise.
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

/// tanh(x), elementwise.
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

/// x where x > 0, negative_slope·x elsewhere.
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01) : negative_slope_(negative_slope) {}
  Tensor forward(const Tensor& input) override;
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_;
};

/// Softmax along `dim` (negative counts from the end); each slice sums to 1.
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& input) override;
  int64_t dim() const { return dim_; }

 private:
  int64_t dim_;
};

/// Log-softmax along `dim`, stable for large logits; pairs with nll_loss.
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : dim_(dim) {}
  Tensor forward(const Tensor& input) override;
  int64_t dim() const { return dim_; }

 private:
  int64_t dim_;
};

/// x·Φ(x) with Φ the standard normal CDF (the exact erf form), as tg::gelu.
class GELU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

/// x·σ(x), as tg::silu.
class SiLU : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

/// x where x > 0, alpha·(eˣ − 1) elsewhere, as tg::elu.
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0) : alpha_(alpha) {}
  Tensor forward(const Tensor& input) override;
  double alpha() const { return alpha_; }

 private:
  double alpha_;
};

/// log(1 + e^(beta·x)) / beta, and x where beta·x > threshold, as tg::softplus.
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : beta_(beta), threshold_(threshold) {}
  Tensor forward(const Tensor& input) override;
  double beta() const { return beta_; }
  double threshold() const { return threshold_; }

 private:
  double beta_, threshold_;
};

/// Merges dims start_dim..end_dim into one; the default keeps the batch dim: [N, C, H, W] →
/// [N, C·H·W].
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;
  int64_t start_dim() const { return start_dim_; }
  int64_t end_dim() const { return end_dim_; }

 private:
  int64_t start_dim_, end_dim_;
};

/// Returns its input unchanged (a placeholder where a layer is optional).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

}  // namespace tg::nn
