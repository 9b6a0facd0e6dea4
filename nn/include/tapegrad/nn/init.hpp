// tg::nn::init: in-place parameter initialisation with PyTorch's formulas and the global generator.
#pragma once

#include <optional>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::nn::init {

/// Which fan scales a Kaiming initialisation: fan_in keeps the forward variance, fan_out the
/// backward one.
enum class FanMode { fan_in, fan_out };

/// The activation that follows the layer, for calculate_gain.
enum class Nonlinearity { linear, sigmoid, tanh, relu, leaky_relu, selu };

/// PyTorch's recommended gain: 1 for linear and sigmoid, 5/3 for tanh, √2 for relu,
/// √(2 / (1 + slope²)) for leaky_relu (slope = `param`, default 0.01), 3/4 for selu.
double calculate_gain(Nonlinearity nonlinearity, std::optional<double> param = std::nullopt);

/// Fills with samples of U(a, b); throws tg::Error if a > b or the tensor is i64.
Tensor uniform_(Tensor tensor, double a = 0.0, double b = 1.0);
/// Fills with samples of N(mean, std²); throws tg::Error if std < 0 or the tensor is i64.
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0);
/// Fills with `value`.
Tensor constant_(Tensor tensor, double value);
/// Fills with 0.
Tensor zeros_(Tensor tensor);
/// Fills with 1.
Tensor ones_(Tensor tensor);

/// U(−a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010); needs ≥ 2 dims.
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
/// N(0, std²) with std = gain·√(2 / (fan_in + fan_out)); needs ≥ 2 dims.
Tensor xavier_normal_(Tensor tensor, double gain = 1.0);
/// U(−bound, bound) with bound = √3·gain/√fan and gain = calculate_gain(nonlinearity, a)
/// (He et al., 2015); `a` is the negative slope of a following leaky_relu. Needs ≥ 2 dims.
///
///     tg::nn::init::kaiming_uniform_(fc.weight, 0.0, FanMode::fan_in, Nonlinearity::relu);
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::fan_in,
                        Nonlinearity nonlinearity = Nonlinearity::leaky_relu);
/// N(0, std²) with std = gain/√fan, gain and fan as for kaiming_uniform_.
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::fan_in,
                       Nonlinearity nonlinearity = Nonlinearity::leaky_relu);

}  // namespace tg::nn::init
