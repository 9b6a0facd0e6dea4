// tg::nn::Sequential: the forward chain and the checked accessors.
#include "tapegrad/nn/sequential.hpp"

#include <fmt/format.h>

#include "module_observer.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/type_name.hpp"
#include "tapegrad/nn/activation.hpp"
#include "tapegrad/nn/linear.hpp"

namespace tg::nn {

namespace detail {

void throw_sequential_index(size_t index, size_t size) {
  throw Error(fmt::format("Sequential: index {} is out of range for {} modules", index, size));
}

void throw_sequential_type(size_t index, const Module& found, const std::type_info& wanted) {
  throw Error(fmt::format("Sequential::at: module {} is a {}, not a {}", index,
                          tg::type_name(typeid(found)), tg::type_name(wanted)));
}

}  // namespace detail

namespace {

// `module` if it is exactly an nn::Linear (a subclass may override forward), else null.
Linear* plain_linear(Module& module) {
  return typeid(module) == typeid(Linear) ? static_cast<Linear*>(&module) : nullptr;
}

}  // namespace

// A Linear followed by a ReLU runs as the one fused op linear_relu: one record, and no
// separate pass (nor tensor) for the activation or its backward's mask. Unless summary is
// watching, which must see each module's own output.
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  const bool fuse = !detail::forward_observed();
  for (size_t i = 0; i < size(); ++i) {
    if (fuse && i + 1 < size() && typeid(child(i + 1)) == typeid(ReLU)) {
      if (Linear* layer = plain_linear(child(i))) {
        x = layer->forward_relu(x);
        ++i;
        continue;
      }
    }
    x = child(i)(x);  // operator(), so summary sees each
  }
  return x;
}

Module& Sequential::operator[](size_t index) const {
  if (index >= size()) detail::throw_sequential_index(index, size());
  return child(index);
}

}  // namespace tg::nn
