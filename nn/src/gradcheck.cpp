// gradcheck over a module's parameters, reported by parameter name.
#include "tapegrad/nn/gradcheck.hpp"

#include <fmt/format.h>

#include "tapegrad/autograd/error.hpp"

namespace tg {

GradcheckResult gradcheck(const nn::Module& module, const std::function<Tensor()>& loss_fn,
                          GradcheckOptions options) {
  std::vector<Tensor> parameters;
  std::vector<std::string> names;
  for (const auto& [name, parameter] : module.named_parameters()) {
    if (!parameter.requires_grad()) continue;
    if (parameter.dtype() != DType::f64)
      throw Error(fmt::format(
          "gradcheck: parameter {} is {} (shape {}); finite differences need f64 — call "
          "module.to(tg::f64) first",
          name, dtype_name(parameter.dtype()), format_shape(parameter.shape())));
    parameters.push_back(parameter);
    names.push_back(name);
  }
  if (parameters.empty())
    throw Error("gradcheck: the module has no parameter that requires grad, so nothing is checked");
  options.input_names = std::move(names);
  // The parameters are the checked inputs: gradcheck perturbs their storage in place, which is
  // the module's own, so loss_fn sees every perturbation without taking them as arguments.
  return gradcheck([&loss_fn](const std::vector<Tensor>&) { return loss_fn(); },
                   std::move(parameters), options);
}

}  // namespace tg
