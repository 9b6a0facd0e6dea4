// tg::gradcheck for a module: every parameter's gradient against central differences.
#pragma once

#include <functional>

#include "tapegrad/autograd/gradcheck.hpp"
#include "tapegrad/nn/module.hpp"

namespace tg {

/// Checks d loss_fn() / d p for every parameter p of `module` (all f64: call module.to(tg::f64)
/// first, or pass {.upcast = true}, which converts an f32 module to f64 in place for the check
/// and back after it; loss_fn must then feed the module data of its parameters' dtype) against
/// central differences; the report names the parameter and element
/// (`fc1.weight[2, 0]`) and gives its value there. `loss_fn` runs the module on fixed data and
/// may return any shape. An overload of tg::gradcheck, in namespace tg, because it answers the
/// same question for a module's parameters that the tensor form answers for its inputs.
///
///     tg::manual_seed(0); Net net; net.to(tg::f64);
///     auto r = tg::gradcheck(net, [&] { return tg::nn::functional::mse_loss(net(x), y); });
///     CHECK_MESSAGE(r.ok, r.report);
GradcheckResult gradcheck(const nn::Module& module, const std::function<Tensor()>& loss_fn,
                          GradcheckOptions options = {});

}  // namespace tg
