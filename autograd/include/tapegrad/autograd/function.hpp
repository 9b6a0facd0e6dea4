// Custom differentiable ops from a forward and a backward, in libtorch's form.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/tensor.hpp"

namespace tg::detail {
struct Node;
}  // namespace tg::detail

namespace tg::autograd {

namespace detail {
struct ContextAccess;
}  // namespace detail

/// What a custom op's forward leaves for its backward.
class AutogradContext {
 public:
  /// Keeps tensors for backward (inputs, or the forward's own output), noting each one's
  /// version so that an in-place write before backward is caught. A saved output keeps its
  /// history for double backward, as PyTorch's: unpacked under create_graph it is the op's
  /// output, so `hessian` and `gradgradcheck` see the output's dependence on the inputs.
  void save_for_backward(std::vector<Tensor> tensors);
  /// The saved tensors; throws tg::Error naming the Function if one was written in place since.
  std::vector<Tensor> get_saved_variables() const;
  /// Declares inputs the forward modified in place: the one the forward returns takes the op's
  /// history (a leaf that requires grad cannot be one), as PyTorch's mark_dirty.
  void mark_dirty(const std::vector<Tensor>& tensors);
  /// Declares outputs that have no gradient: such an output is returned unrecorded, with
  /// requires_grad() false, as PyTorch's mark_non_differentiable.
  void mark_non_differentiable(const std::vector<Tensor>& tensors);
  /// Non-tensor values for backward, by name.
  std::map<std::string, double> saved_data;
  /// Keeps any object for backward (replacing an earlier one): state that is not a number,
  /// such as a handle on the object that launched the op. Throws tg::Error if it is null.
  template <class T>
  void set_payload(std::shared_ptr<T> payload) {
    set_payload_erased(std::shared_ptr<void>(std::move(payload)), typeid(T));
  }
  /// The object set_payload stored; throws tg::Error naming both types if none was stored or
  /// it was stored as another type than T.
  template <class T>
  T& payload() const {
    return *static_cast<T*>(payload_erased(typeid(T)));
  }

 private:
  friend struct detail::ContextAccess;
  void set_payload_erased(std::shared_ptr<void> payload, const std::type_info& type);
  void* payload_erased(const std::type_info& type) const;
  std::shared_ptr<void> payload_;
  const std::type_info* payload_type_ = nullptr;
  std::vector<Tensor> saved_;
  std::vector<uint64_t> versions_;
  std::vector<bool> saved_is_output_;
  std::vector<const void*> dirty_;
  std::vector<const void*> non_differentiable_;
  // The op's own record, to give a saved output its history back in a recorded backward. Weak:
  // the record owns this context, so a strong reference would be a cycle never freed.
  std::weak_ptr<tg::detail::Node> record_;
};

namespace detail {
using CustomBackward = std::vector<Tensor> (*)(AutogradContext*, std::vector<Tensor>);
Tensor record_custom(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                     std::shared_ptr<AutogradContext> context, CustomBackward backward);
std::string demangle(const char* mangled);

template <class T>
concept HasName = requires {
  T::name;
};

template <class Derived>
const char* function_name() {
  if constexpr (HasName<Derived>) {
    return Derived::name;
  } else {
    static const std::string name = demangle(typeid(Derived).name());
    return name.c_str();
  }
}
}  // namespace detail

/// Base of a user-defined op. Derived provides
///   static Tensor forward(AutogradContext*, args...)   (any mix of Tensors and other values)
///   static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> grad_outputs)
/// returning one gradient per Tensor argument (an undefined Tensor for "none"), and optionally
/// `static constexpr const char* name` for the tape. See the README for a worked example.
///
///     tg::Tensor y = Square::apply(x);
template <class Derived>
struct Function {
  template <class... Args>
  static Tensor apply(Args&&... args) {
    auto context = std::make_shared<AutogradContext>();
    std::vector<Tensor> inputs;
    (
        [&](const auto& arg) {
          if constexpr (std::is_same_v<std::decay_t<decltype(arg)>, Tensor>) inputs.push_back(arg);
        }(args),
        ...);
    Tensor output;
    {
      NoGradGuard no_grad;  // the op is one record; its inner ops are not
      output = Derived::forward(context.get(), std::forward<Args>(args)...);
    }
    return detail::record_custom(detail::function_name<Derived>(), std::move(output), inputs,
                                 std::move(context), &Derived::backward);
  }
};

}  // namespace tg::autograd
