// tg::nn::summary: a model's layers, their output shapes and parameter counts as a text table.
#pragma once

#include <string>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// A table with one row per submodule (dotted name, type, own parameter count; parents before
/// children), then the total and trainable parameter counts and the parameters' memory. A row
/// "(own)" holds parameters the model registers itself.
///
///     fmt::print("{}", tg::nn::summary(model));
std::string summary(const Module& model);

/// The same with an "Output shape" column: the model runs once on zeros of `input_shape` (in the
/// dtype of its parameters) in evaluation mode without recording, and each submodule called
/// through operator() (Sequential calls its modules so) reports its output's shape; a submodule
/// that a user's forward calls as .forward(x), or not at all, shows "-". Training flags are
/// restored afterwards; errors of the forward propagate.
std::string summary(const Module& model, const Shape& input_shape);

}  // namespace tg::nn
