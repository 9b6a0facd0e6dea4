// tg::nn::Module: registration, the recursive parameter and buffer walks, train/eval, zero_grad,
// to(dtype) and the state dict.
#include "tapegrad/nn/module.hpp"

#include <fmt/format.h>

#include <typeinfo>
#include <unordered_set>
#include <utility>
#include <vector>

#include "module_observer.hpp"
#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/serialize.hpp"
#include "tapegrad/autograd/type_name.hpp"

namespace tg::nn {
namespace {

std::string type_name(const Module& module) { return tg::type_name(typeid(module)); }

// The bytes a tensor's values occupy, to tell whether two tensors share memory.
std::pair<const char*, const char*> byte_range(const Tensor& tensor) {
  const std::span<const std::byte> bytes = raw_bytes(tensor);
  const char* begin = reinterpret_cast<const char*>(bytes.data());
  return {begin, begin + bytes.size()};
}

}  // namespace

namespace {
thread_local detail::ForwardObserver* forward_observer = nullptr;
}  // namespace

detail::ForwardObserver* detail::exchange_forward_observer(ForwardObserver* observer) {
  return std::exchange(forward_observer, observer);
}

bool detail::forward_observed() { return forward_observer != nullptr; }

Tensor Module::operator()(const Tensor& input) {
  Tensor output = forward(input);
  if (forward_observer != nullptr) (*forward_observer)(*this, output);
  return output;
}

Tensor Module::forward(const Tensor& input) {
  throw Error(
      fmt::format("{}::forward: not implemented (input {}); a module must override "
                  "forward(const Tensor&) to be called",
                  type_name(*this), format_shape(input.shape())));
}

// Depth first, own tensors before the submodules', as PyTorch's named_parameters() and
// named_buffers(); `seen` drops a tensor met a second time (a weight shared between two layers).
void Module::collect_named(NamedTensors Module::*list, const std::string& prefix, NamedTensors& out,
                           std::unordered_set<const void*>& seen) const {
  for (const auto& [name, tensor] : this->*list)
    if (seen.insert(tensor.impl()).second) out.emplace_back(prefix + name, tensor);
  for (const auto& [name, child] : children_)
    child->collect_named(list, prefix + name + ".", out, seen);
}

Module::NamedTensors Module::named_parameters() const {
  NamedTensors out;
  std::unordered_set<const void*> seen;
  collect_named(&Module::parameters_, "", out, seen);
  return out;
}

Module::NamedTensors Module::named_buffers() const {
  NamedTensors out;
  std::unordered_set<const void*> seen;
  collect_named(&Module::buffers_, "", out, seen);
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_buffers()) out.push_back(std::move(tensor));
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, tensor] : named_parameters()) out.push_back(std::move(tensor));
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_children() const {
  std::vector<std::pair<std::string, Module*>> out;
  out.reserve(children_.size());
  for (const auto& [name, child] : children_) out.emplace_back(name, child.get());
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (size_t next = 0; next < out.size(); ++next) {
    // Depth first: splice each module's children right after it, in registration order.
    const auto [prefix, module] = out[next];
    std::vector<std::pair<std::string, Module*>> children;
    for (const auto& [name, child] : module->children_)
      children.emplace_back(prefix.empty() ? name : prefix + "." + name, child.get());
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(next) + 1, children.begin(),
               children.end());
  }
  return out;
}

Module& Module::apply(const std::function<void(Module&)>& function) {
  for (auto& [name, child] : children_) child->apply(function);
  function(*this);
  return *this;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t count = 0;
  for (const Tensor& parameter : parameters())
    if (!trainable_only || parameter.requires_grad()) count += parameter.numel();
  return count;
}

Module& Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
  return *this;
}

void Module::zero_grad() {
  for (Tensor& parameter : parameters()) parameter.zero_grad();
}

Module& Module::to(DType dtype) {
  if (!is_floating(dtype))
    throw Error(fmt::format("{}::to: parameters must be f32 or f64, not {}", type_name(*this),
                            dtype_name(dtype)));
  NoGradGuard no_grad;
  // set_data swaps the storage under every handle, so layers' own members (Linear::weight)
  // and optimizers built before the conversion see the new dtype.
  for (Tensor& parameter : parameters())
    if (parameter.dtype() != dtype) parameter.set_data(parameter.to(dtype));
  // Integer buffers (a batch counter) keep their dtype, as in PyTorch.
  for (Tensor& buffer : buffers())
    if (is_floating(buffer.dtype()) && buffer.dtype() != dtype) buffer.set_data(buffer.to(dtype));
  return *this;
}

StateDict Module::state_dict() const {
  StateDict state;
  for (auto& [name, tensor] : named_parameters()) state.emplace(name, tensor);
  for (auto& [name, tensor] : named_buffers()) state.emplace(name, tensor);
  return state;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  const StateDict own = state_dict();
  // Check everything before writing anything, so a bad entry leaves the module as it was.
  for (const auto& [name, target] : own) {
    auto found = state.find(name);
    if (found == state.end()) {
      if (strict)
        throw Error(fmt::format("{}::load_state_dict: missing entry \"{}\" ({} {})",
                                type_name(*this), name, dtype_name(target.dtype()),
                                format_shape(target.shape())));
      continue;
    }
    const Tensor& source = found->second;
    if (!source.defined() || source.shape() != target.shape() ||
        is_floating(source.dtype()) != is_floating(target.dtype()))
      throw Error(fmt::format(
          "{}::load_state_dict: entry \"{}\" is {} {} but the module's is {} {}", type_name(*this),
          name, source.defined() ? dtype_name(source.dtype()) : "undefined",
          source.defined() ? format_shape(source.shape()) : "[]", dtype_name(target.dtype()),
          format_shape(target.shape())));
  }
  if (strict)
    for (const auto& [name, source] : state)
      if (!own.contains(name))
        throw Error(fmt::format("{}::load_state_dict: unexpected entry \"{}\" ({} {})",
                                type_name(*this), name, dtype_name(source.dtype()),
                                format_shape(source.shape())));
  NoGradGuard no_grad;
  // A source that shares memory with a target other than its own (a state whose tensors are
  // this module's, crossed) is copied first, or writing that target would change the source.
  std::vector<std::pair<Tensor, Tensor>> copies;
  for (const auto& [name, target] : own) {
    auto found = state.find(name);
    if (found == state.end()) continue;
    Tensor source = found->second;
    const auto [begin, end] = byte_range(source);
    for (const auto& [other_name, other] : own) {
      const auto [other_begin, other_end] = byte_range(other);
      if (other_name != name && begin < other_end && other_begin < end) {
        source = source.clone();
        break;
      }
    }
    copies.emplace_back(target, std::move(source));
  }
  for (auto& [target, source] : copies) target.copy_(source);
}

void Module::check_new_name(const std::string& name, const char* what) const {
  if (name.empty() || name.find('.') != std::string::npos)
    throw Error(fmt::format("{}::register_{}: name \"{}\" must be non-empty and contain no '.'",
                            type_name(*this), what, name));
  for (const auto& entry : parameters_)
    if (entry.first == name)
      throw Error(fmt::format("{}::register_{}: \"{}\" is already a parameter", type_name(*this),
                              what, name));
  for (const auto& entry : buffers_)
    if (entry.first == name)
      throw Error(
          fmt::format("{}::register_{}: \"{}\" is already a buffer", type_name(*this), what, name));
  for (const auto& entry : children_)
    if (entry.first == name)
      throw Error(fmt::format("{}::register_{}: \"{}\" is already a submodule", type_name(*this),
                              what, name));
}

Tensor Module::register_parameter(std::string name, Tensor tensor) {
  check_new_name(name, "parameter");
  if (!tensor.defined())
    throw Error(fmt::format("{}::register_parameter: \"{}\" is an undefined tensor",
                            type_name(*this), name));
  if (!is_floating(tensor.dtype()) || !tensor.is_leaf())
    throw Error(fmt::format(
        "{}::register_parameter: \"{}\" ({} {}) must be an f32 or f64 leaf tensor",
        type_name(*this), name, dtype_name(tensor.dtype()), format_shape(tensor.shape())));
  tensor.set_requires_grad(true);
  // Named after its slot, so the tape shows "weight" (and "fc1.weight" once the module is
  // registered in a parent) without set_name; a name the user gave stays.
  if (tensor.name().empty()) tensor.set_name(name);
  parameters_.emplace_back(std::move(name), tensor);
  return tensor;
}

Tensor Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name(name, "buffer");
  if (!tensor.defined())
    throw Error(
        fmt::format("{}::register_buffer: \"{}\" is an undefined tensor", type_name(*this), name));
  buffers_.emplace_back(std::move(name), tensor);
  return tensor;
}

namespace {

// The child's parameters that still carry the name registration gave them ("weight",
// "fc1.weight") are renamed under `prefix` ("net.fc1.weight"), as named_parameters() lists them.
void prefix_parameter_names(const Module& child, const std::string& prefix) {
  for (auto& [name, tensor] : child.named_parameters())
    if (tensor.name() == name) tensor.set_name(prefix + "." + name);
}

}  // namespace

void Module::add_child(std::string name, std::unique_ptr<Module> module) {
  check_new_name(name, "module");
  prefix_parameter_names(*module, name);
  children_.emplace_back(std::move(name), std::shared_ptr<Module>(std::move(module)));
}

Module& Module::register_module_reference(std::string name, Module& module) {
  check_new_name(name, "module");
  prefix_parameter_names(module, name);
  // An aliasing pointer with no owner: the child is reachable but never deleted from here.
  children_.emplace_back(std::move(name),
                         std::shared_ptr<Module>(std::shared_ptr<Module>(), &module));
  return module;
}

}  // namespace tg::nn
