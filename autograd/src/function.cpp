// Custom functions: recording a user's forward/backward pair as one record on the tape.
#include "tapegrad/autograd/function.hpp"

#include <cxxabi.h>

#include <cstdlib>

#include "record.hpp"

namespace tg::autograd::detail {

std::string demangle(const char* mangled) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && readable != nullptr ? readable : mangled;
  std::free(readable);
  return name;
}

Tensor record_custom(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                     std::shared_ptr<AutogradContext> context, CustomBackward backward) {
  // A fresh handle, so a forward that returns an input never gives that input a history.
  Tensor out = output.detach();
  return tg::detail::record(name, out, inputs,
                            [context = std::move(context), backward](const Tensor& g) -> Gradients {
                              return backward(context.get(), {g});
                            });
}

}  // namespace tg::autograd::detail
