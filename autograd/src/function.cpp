// Custom functions: recording a user's forward/backward pair as one record on the tape.
#include "tapegrad/autograd/function.hpp"

#include <cxxabi.h>

#include <cstdlib>

#include "record.hpp"

namespace tg::autograd {

void AutogradContext::save_for_backward(std::vector<Tensor> tensors) {
  saved_ = std::move(tensors);
  versions_.clear();
  for (const Tensor& t : saved_) versions_.push_back(t.defined() ? t.version() : 0);
}

std::vector<Tensor> AutogradContext::get_saved_variables() const {
  for (size_t i = 0; i < saved_.size(); ++i)
    if (saved_[i].defined() && saved_[i].version() != versions_[i])
      tg::detail::throw_modified(saved_[i], versions_[i]);
  return saved_;
}

namespace detail {

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
                              const std::vector<Tensor> grads = backward(context.get(), {g});
                              return Gradients(grads.begin(), grads.end());
                            });
}

}  // namespace detail
}  // namespace tg::autograd
