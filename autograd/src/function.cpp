// Custom functions: recording a user's forward/backward pair as one record on the tape.
#include "tapegrad/autograd/function.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "record.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::autograd {

void AutogradContext::save_for_backward(std::vector<Tensor> tensors) {
  saved_ = std::move(tensors);
  versions_.clear();
  for (const Tensor& t : saved_) versions_.push_back(t.defined() ? t.version() : 0);
  saved_is_output_.assign(saved_.size(), false);
}

std::vector<Tensor> AutogradContext::get_saved_variables() const {
  for (size_t i = 0; i < saved_.size(); ++i)
    if (saved_[i].defined() && saved_[i].version() != versions_[i])
      tg::detail::throw_modified(saved_[i], versions_[i]);
  std::vector<Tensor> result = saved_;
  // PyTorch's saved-output rule: in a recorded backward (create_graph) a saved output is the
  // op's output again, with this record as its history, so that a second derivative sees how
  // the output depends on the inputs; a plain backward reads its values only.
  if (!is_grad_enabled()) return result;
  const std::shared_ptr<tg::detail::Node> record = record_.lock();
  if (!record) return result;
  for (size_t i = 0; i < result.size(); ++i)
    if (saved_is_output_[i]) {
      result[i] = tg::detail::alias_with_shape(saved_[i], saved_[i].shape());
      result[i].impl()->grad_fn = record;
    }
  return result;
}

void AutogradContext::mark_dirty(const std::vector<Tensor>& tensors) {
  for (const Tensor& t : tensors) dirty_.push_back(t.impl());
}

void AutogradContext::mark_non_differentiable(const std::vector<Tensor>& tensors) {
  for (const Tensor& t : tensors) non_differentiable_.push_back(t.impl());
}

void AutogradContext::set_payload_erased(std::shared_ptr<void> payload,
                                         const std::type_info& type) {
  if (!payload)
    throw Error(fmt::format("AutogradContext::set_payload: the {} pointer is null",
                            detail::demangle(type.name())));
  payload_ = std::move(payload);
  payload_type_ = &type;
}

void* AutogradContext::payload_erased(const std::type_info& type) const {
  if (payload_type_ == nullptr)
    throw Error(fmt::format("AutogradContext::payload<{}>: the forward stored no payload",
                            detail::demangle(type.name())));
  if (*payload_type_ != type)
    throw Error(fmt::format("AutogradContext::payload<{}>: the payload is a {}",
                            detail::demangle(type.name()),
                            detail::demangle(payload_type_->name())));
  return payload_.get();
}

namespace detail {

std::string demangle(const char* mangled) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && readable != nullptr ? readable : mangled;
  std::free(readable);
  return name;
}

/// Reads and sets the context's private bookkeeping for record_custom.
struct ContextAccess {
  static Tensor record(const char* name, const Tensor& output, const std::vector<Tensor>& inputs,
                       std::shared_ptr<AutogradContext> context, CustomBackward backward) {
    AutogradContext& ctx = *context;
    const void* produced = output.impl();
    auto listed = [](const std::vector<const void*>& list, const void* impl) {
      return std::find(list.begin(), list.end(), impl) != list.end();
    };
    for (const void* dirty : ctx.dirty_)
      if (dirty != produced)
        throw Error(fmt::format(
            "{}: mark_dirty was given a tensor the forward does not return; an input modified in "
            "place must be returned as the output",
            name));
    const bool dirty = listed(ctx.dirty_, produced);
    bool returns_input = false;
    for (const Tensor& input : inputs) returns_input = returns_input || input.impl() == produced;
    if (dirty && !returns_input)
      throw Error(fmt::format("{}: mark_dirty was given a tensor that is not an input", name));
    if (dirty && output.is_leaf() && output.requires_grad())
      throw Error(
          fmt::format("{}: a leaf that requires grad ({} {}) is modified in place by the forward "
                      "(mark_dirty); modify a copy (clone()) or a tensor computed from it",
                      name, dtype_name(output.dtype()), format_shape(output.shape())));
    // Saved copies of the output hold no history of their own (the record keeps the context,
    // so a saved tensor with the record as history would be a cycle); the record finds them
    // through saved_is_output_ instead.
    for (size_t i = 0; i < ctx.saved_.size(); ++i)
      if (ctx.saved_[i].defined() && ctx.saved_[i].impl() == produced &&
          (dirty || !returns_input)) {
        ctx.saved_is_output_[i] = true;
        ctx.saved_[i] = tg::detail::alias_with_shape(ctx.saved_[i], ctx.saved_[i].shape());
      }
    // A dirty input is the output itself and takes the new history; otherwise a fresh handle,
    // so a forward that returns an input never gives that input a history.
    Tensor out = dirty ? output : output.detach();
    if (listed(ctx.non_differentiable_, produced)) return out;
    AutogradContext* raw = context.get();
    Tensor result = tg::detail::record(
        name, out, inputs, [context = std::move(context), backward](const Tensor& g) -> Gradients {
          const std::vector<Tensor> grads = backward(context.get(), {g});
          return Gradients(grads.begin(), grads.end());
        });
    if (result.impl()->grad_fn) raw->record_ = result.impl()->grad_fn;
    return result;
  }
};

Tensor record_custom(const char* name, Tensor output, const std::vector<Tensor>& inputs,
                     std::shared_ptr<AutogradContext> context, CustomBackward backward) {
  return ContextAccess::record(name, output, inputs, std::move(context), backward);
}

}  // namespace detail
}  // namespace tg::autograd
