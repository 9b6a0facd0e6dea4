// tg::nn::Module, the base of every layer and model: parameters, submodules, train/eval, dtype.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tapegrad/autograd/dtype.hpp"
#include "tapegrad/autograd/state_dict.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::nn {

class Module;

/// A Module or a type derived from it (possibly cv- or reference-qualified).
template <class M>
concept DerivedModule = std::derived_from<std::remove_cvref_t<M>, Module>;

/// A layer or model: owns named parameters and named submodules and maps a tensor to a tensor.
/// Modules are movable but not copyable, so a copy can never silently share parameters with
/// its original; a registered submodule lives on the heap, so references to it survive moves.
///
///     struct Net : tg::nn::Module {
///       tg::nn::Linear& fc1 = register_module("fc1", tg::nn::Linear(784, 128));
///       tg::nn::Linear& fc2 = register_module("fc2", tg::nn::Linear(128, 10));
///       tg::Tensor forward(const tg::Tensor& x) override { return fc2(tg::relu(fc1(x))); }
///     };
///     Net net;
///     tg::Tensor logits = net(images);   // net.named_parameters(): fc1.weight, fc1.bias, ...
class Module {
 public:
  using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) noexcept = default;
  Module& operator=(Module&&) noexcept = default;

  /// The layer's computation; the base version throws tg::Error, as PyTorch's does.
  virtual Tensor forward(const Tensor& input);
  /// Calls forward(input) (and reports the output to tg::nn::summary while it is watching).
  Tensor operator()(const Tensor& input);

  /// Every parameter of this module and its submodules, own ones first, in registration order;
  /// the handles alias the module's tensors, and a tensor registered twice appears once.
  std::vector<Tensor> parameters() const;
  /// parameters() with dotted names such as "fc1.weight" or "0.bias".
  NamedTensors named_parameters() const;
  /// Every buffer (state that is not trained, such as BatchNorm's running mean) of this module
  /// and its submodules, own ones first, in registration order.
  std::vector<Tensor> buffers() const;
  /// buffers() with dotted names such as "bn.running_mean".
  NamedTensors named_buffers() const;
  /// The direct submodules with their names, in registration order.
  std::vector<std::pair<std::string, Module*>> named_children() const;
  /// This module ("" first) and every submodule under its dotted name, parents before children.
  std::vector<std::pair<std::string, Module*>> named_modules();

  /// Calls `function` on every submodule (depth first, children before their parent) and then on
  /// this module, as PyTorch's apply; returns *this.
  ///
  ///     model.apply([](tg::nn::Module& m) {
  ///       if (auto* fc = dynamic_cast<tg::nn::Linear*>(&m)) tg::nn::init::zeros_(fc->bias);
  ///     });
  Module& apply(const std::function<void(Module&)>& function);

  /// The number of parameter elements (a shared tensor counted once); with trainable_only, only
  /// those that require grad.
  int64_t num_parameters(bool trainable_only = false) const;

  /// Sets training mode (true) or evaluation mode (false) here and in every submodule.
  Module& train(bool on = true);
  /// Same as train(false): Dropout becomes the identity.
  Module& eval() { return train(false); }
  /// True in training mode, the default.
  bool is_training() const { return training_; }

  /// Drops every parameter's accumulated gradient (grad() becomes undefined, as set_to_none).
  void zero_grad();
  /// Converts every parameter and floating-point buffer to `dtype` (f32 or f64) in place, so
  /// existing handles follow; accumulated gradients are dropped. Throws tg::Error for i64.
  Module& to(DType dtype);

  /// Every parameter and buffer under its dotted name; the tensors alias the module's own.
  StateDict state_dict() const;
  /// Copies `state` into the existing parameters and buffers (handles, optimizers included,
  /// see the new values). All or nothing: every entry is checked first (shape, a dtype that
  /// converts, and with `strict` exactly the names of state_dict()), and on any problem
  /// tg::Error naming the entry is thrown with the module untouched.
  void load_state_dict(const StateDict& state, bool strict = true);

  /// Adds a parameter under `name` (no dots, unique) and marks it as requiring grad; returns
  /// the same handle. Throws tg::Error for an undefined, i64 or non-leaf tensor.
  Tensor register_parameter(std::string name, Tensor tensor);
  /// Adds a buffer under `name` (no dots, unique): state that is saved, loaded and moved by
  /// to(dtype) with the parameters but never trained (it gets no gradient and is not in
  /// parameters()). Returns the same handle; throws tg::Error for an undefined tensor.
  Tensor register_buffer(std::string name, Tensor tensor);

  /// Takes ownership of `module` as the submodule `name` and returns a reference to the owned
  /// object, which stays valid for the parent's lifetime (moves of the parent included).
  template <DerivedModule M>
  std::remove_cvref_t<M>& register_module(std::string name, M&& module) {
    static_assert(!std::is_lvalue_reference_v<M>,
                  "modules are not copyable: pass a temporary or std::move the module");
    auto owned = std::make_unique<std::remove_cvref_t<M>>(std::move(module));
    auto& reference = *owned;
    add_child(std::move(name), std::move(owned));
    return reference;
  }

 protected:
  /// The number of direct submodules.
  size_t child_count() const { return children_.size(); }
  /// The direct submodule at `index` (registration order); no bounds check.
  Module& child(size_t index) const { return *children_[index].second; }
  /// Registers `module`, owned elsewhere, as the submodule `name` without taking ownership, so
  /// its parameters appear here under "name."; it must outlive this module. For wrappers such
  /// as tg::distributed::DistributedDataParallel.
  Module& register_module_reference(std::string name, Module& module);

 private:
  void add_child(std::string name, std::unique_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  void collect_named(NamedTensors Module::*list, const std::string& prefix, NamedTensors& out,
                     std::unordered_set<const void*>& seen) const;

  NamedTensors parameters_;
  NamedTensors buffers_;
  // Owned children, or (register_module_reference) non-owning handles to borrowed ones.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace tg::nn
