// Activation layers as modules: ReLU, Sigmoid, Tanh, LeakyReLU, Softmax, LogSoftmax, Identity.
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

/// Returns its input unchanged (a placeholder where a layer is optional).
class Identity : public Module {
 public:
  Tensor forward(const Tensor& input) override;
};

}  // namespace tg::nn
