// tg::nn::Sequential: the forward chain and the checked accessors.
#include "tapegrad/nn/sequential.hpp"

#include <fmt/format.h>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/function.hpp"

namespace tg::nn {

namespace detail {

void throw_sequential_index(size_t index, size_t size) {
  throw Error(fmt::format("Sequential: index {} is out of range for {} modules", index, size));
}

void throw_sequential_type(size_t index, const Module& found, const std::type_info& wanted) {
  throw Error(fmt::format("Sequential::at: module {} is a {}, not a {}", index,
                          autograd::detail::demangle(typeid(found).name()),
                          autograd::detail::demangle(wanted.name())));
}

}  // namespace detail

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (size_t i = 0; i < size(); ++i) x = child(i)(x);  // operator(), so summary sees each
  return x;
}

Module& Sequential::operator[](size_t index) const {
  if (index >= size()) detail::throw_sequential_index(index, size());
  return child(index);
}

}  // namespace tg::nn
