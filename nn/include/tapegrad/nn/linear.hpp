// tg::nn::Linear, the fully connected layer y = x Wᵀ + b.
#pragma once

#include <cstdint>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// y = x Wᵀ + b with W [out, in] and b [out], on inputs [..., in], through the fused
/// tg::linear. W and b start as in PyTorch: kaiming_uniform_(a = √5), i.e. both uniform in
/// [−1/√in, 1/√in].
///
///     tg::nn::Linear fc(784, 128);
///     tg::Tensor h = fc(x);   // [N, 784] -> [N, 128]
class Linear : public Module {
 public:
  /// Throws tg::Error unless in_features and out_features are positive.
  Linear(int64_t in_features, int64_t out_features, bool with_bias = true);

  /// x Wᵀ + b; throws tg::Error naming the layer if x's last dimension is not in_features.
  Tensor forward(const Tensor& input) override;
  /// relu(forward(input)) through the fused tg::linear_relu, with the same checks; what
  /// Sequential runs for this layer when a ReLU follows it.
  Tensor forward_relu(const Tensor& input);

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

  /// The weight W [out, in], registered as "weight".
  Tensor weight;
  /// The bias b [out], registered as "bias"; undefined when built with with_bias = false.
  Tensor bias;

 private:
  void check_input(const Tensor& input) const;

  int64_t in_features_;
  int64_t out_features_;
};

}  // namespace tg::nn
