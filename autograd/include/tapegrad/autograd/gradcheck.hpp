// tg::gradcheck and tg::gradgradcheck: analytical gradients against central differences.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tapegrad/autograd/tensor.hpp"

namespace tg {

/// Finite-difference step and the tolerance |analytical - numerical| <= atol + rtol*|numerical|.
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  /// Names for the inputs in the report ("fc1.weight" reports `fc1.weight[2, 0]`); inputs
  /// beyond the list are reported as `input 3 [4, 2], element [2, 0]`.
  std::vector<std::string> input_names = {};
};

/// The verdict, the worst error, and a report naming the input and element that is wrong, with
/// the input's value there beside the analytical and numerical derivatives.
struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string report;
};

/// Compares the whole Jacobian of `fn` at `inputs` (those that require grad, all f64) with
/// central differences.
///
///     auto r = tg::gradcheck([](const std::vector<tg::Tensor>& in) { return tg::tanh(in[0]); },
///                            {tg::randn({3}, {.dtype = tg::f64, .requires_grad = true})});
///     CHECK_MESSAGE(r.ok, r.report);
GradcheckResult gradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn,
                          std::vector<Tensor> inputs, GradcheckOptions options = {});

/// Checks second derivatives: the gradient of `fn` (recorded with create_graph, against fixed
/// random output weights) is itself gradchecked.
GradcheckResult gradgradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn,
                              std::vector<Tensor> inputs, GradcheckOptions options = {});

}  // namespace tg
