// tg::nn::Sequential, a chain of modules applied in order.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

namespace detail {
[[noreturn]] void throw_sequential_index(size_t index, size_t size);
[[noreturn]] void throw_sequential_type(size_t index, const Module& found,
                                        const std::type_info& wanted);
}  // namespace detail

/// Applies its modules in order, each to the previous one's output. The modules are taken by
/// value (moved in) and named "0", "1", ..., so parameters are named "0.weight", "2.bias", ...
///
///     tg::nn::Sequential model(tg::nn::Linear(784, 128), tg::nn::ReLU(), tg::nn::Linear(128, 10));
///     tg::Tensor logits = model(x);
///     tg::nn::Linear& first = model.at<tg::nn::Linear>(0);
class Sequential : public Module {
 public:
  Sequential() = default;
  /// Takes ownership of the modules, in order; pass temporaries or std::move them. (A single
  /// Sequential rvalue is a move of that Sequential, not a nesting.)
  template <DerivedModule First, DerivedModule... Rest>
  explicit Sequential(First&& first, Rest&&... rest) {
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  /// Appends `module` under the next index and returns a reference to the owned object.
  template <DerivedModule M>
  std::remove_cvref_t<M>& push_back(M&& module) {
    return register_module(std::to_string(size()), std::forward<M>(module));
  }

  /// Each module in turn; an empty Sequential returns its input.
  Tensor forward(const Tensor& input) override;

  /// The number of modules.
  size_t size() const { return child_count(); }
  /// True when it holds no modules.
  bool empty() const { return size() == 0; }
  /// The module at `index`; throws tg::Error if index ≥ size().
  Module& operator[](size_t index) const;
  /// The module at `index` as an M; throws tg::Error if out of range or of another type.
  template <class M>
  M& at(size_t index) const {
    Module& module = (*this)[index];
    if (auto* typed = dynamic_cast<M*>(&module)) return *typed;
    detail::throw_sequential_type(index, module, typeid(M));
  }
};

}  // namespace tg::nn
