// gradcheck over a module's parameters, reported by parameter name.
#include "tapegrad/nn/gradcheck.hpp"

#include <fmt/format.h>

#include "tapegrad/autograd/error.hpp"

namespace tg {

GradcheckResult gradcheck(const nn::Module& module, const std::function<Tensor()>& loss_fn,
                          GradcheckOptions options) {
  std::vector<Tensor> tensors;
  std::vector<std::string> names;
  for (const auto& [name, parameter] : module.named_parameters()) {
    if (!parameter.requires_grad()) continue;
    const bool converted = options.upcast && parameter.dtype() == DType::f32;
    if (parameter.dtype() != DType::f64 && !converted)
      throw Error(fmt::format(
          "gradcheck: parameter {} is {} (shape {}); finite differences need f64 — call "
          "module.to(tg::f64) first, or pass {{.upcast = true}} to check an f32 module in f64",
          name, dtype_name(parameter.dtype()), format_shape(parameter.shape())));
    tensors.push_back(parameter);
    names.push_back(name);
  }
  if (tensors.empty())
    throw Error("gradcheck: the module has no parameter that requires grad, so nothing is checked");
  // With upcast the floating buffers (running statistics) go to f64 with the parameters, as
  // module.to(tg::f64) would take them; they follow the parameters' names, unnamed.
  if (options.upcast)
    for (const auto& [name, buffer] : module.named_buffers())
      if (buffer.dtype() == DType::f32) tensors.push_back(buffer);
  options.input_names = std::move(names);
  // The parameters are the checked inputs: gradcheck perturbs their storage in place, which is
  // the module's own, so loss_fn sees every perturbation (and every random point, and the f64
  // conversion) without taking them as arguments.
  return tg::gradcheck_in_place([&loss_fn](const std::vector<Tensor>&) { return loss_fn(); },
                                std::move(tensors), options);
}

}  // namespace tg
