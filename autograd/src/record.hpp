// detail::record: puts an op's output on the tape together with its backward.
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include "node.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/tape.hpp"
#include "tensor_impl.hpp"

namespace tg::detail {

/// True if recording is on and some input wants a gradient.
inline bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (wants_grad(*t)) return true;
  return false;
}

/// True while this thread runs a backward pass (anomalies there are reported as backward's).
bool in_backward();
void set_in_backward(bool running);

/// The record whose backward this thread is running (set by the engine), or null; saved
/// tensors name it when they find themselves modified.
const Node* running_record();
void set_running_record(const Node* node);

/// Throws the error of a saved tensor written in place since it was saved, naming the record
/// whose backward needed it (PyTorch's wording, so users can search for it).
[[noreturn]] void throw_modified(const Tensor& saved, uint64_t saved_version,
                                 const char* owner = nullptr);

/// A tensor an op keeps for its backward, with the version its storage had when it was saved.
/// unpack() refuses it once an in-place write (copy_, fill_, add_, an optimizer step, ...) has
/// changed it, since the backward would silently use the new values. Costs one integer copy.
/// Every tensor a backward reads goes through one: capture `a = SavedTensor(a)`, never `a`.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t) : tensor_(t), version_(t.defined() ? t.version() : 0) {}
  /// The saved tensor, or an Error if it was written in place since.
  const Tensor& unpack() const {
    if (tensor_.defined() && tensor_.version() != version_) throw_modified(tensor_, version_);
    return tensor_;
  }
  /// Whether the saved tensor wants a gradient (no version check: this reads no values).
  bool requires_grad() const { return tensor_.requires_grad(); }

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
};

/// g · mask for a backward whose mask (0/±1/½ entries) was computed from `sources`: recorded,
/// under create_graph, as an op `name` of g and of the sources, with zero gradient for the
/// sources, so a second derivative through it is zero rather than missing (PyTorch's).
/// (A list, not a vector: a plain backward never keeps the sources, so it builds no vector.)
Tensor times_mask(const char* name, const Tensor& g, const Tensor& mask,
                  std::initializer_list<Tensor> sources);

/// The one way an op keeps its own output for its backward (exp, sqrt, tanh, sigmoid, softmax,
/// log_softmax, ...): save_output(out) in the forward, and in the backward
/// `output.value([&] { return op(input.unpack()); })`.
class SavedOutput {
 public:
  /// Keeps `out`'s values without its history: holding `out` itself would make its record own
  /// its own output, a reference cycle that would never be freed.
  explicit SavedOutput(const Tensor& out) : saved_(alias_with_shape(out, out.shape())) {}
  /// The output for the backward. A plain backward reads the saved values. A recorded one
  /// (create_graph) calls `recompute`, the forward run again on the inputs, because the saved
  /// values carry no history and the second derivative must flow through the output.
  template <class Recompute>
  Tensor value(Recompute&& recompute) const {
    return is_grad_enabled() ? recompute() : saved_.unpack();
  }

 private:
  SavedTensor saved_;
};

/// In anomaly mode, throws if `out` holds NaN or Inf, naming op `name`.
void check_forward_anomaly(const char* name, const Tensor& out);

/// Links `out` to a new record of `name` whose edges lead to `inputs`; called only when
/// should_record() said yes.
void attach(const char* name, Tensor& out, std::shared_ptr<Node> node, const Tensor* const* inputs,
            size_t count);

/// A new record running `backward`, allocated from the per-thread free lists.
template <class Backward>
std::shared_ptr<Node> make_record(Backward&& backward) {
  using Record = LambdaNode<std::decay_t<Backward>>;
  return std::allocate_shared<Record>(SmallBlockAllocator<Record>{},
                                      std::forward<Backward>(backward));
}

/// True (after anomaly mode's check of `out`) when op `name` on `inputs` gets no record. An op
/// whose backward saves tensors asks this first and returns `out` on true: the saved handles
/// (a reference count each, an alias for a saved output) are then never built, which is most of
/// a small unrecorded op's overhead: a no-grad forward, or a backward's own products.
inline bool unrecorded(const char* name, const Tensor& out,
                       std::initializer_list<const Tensor*> inputs) {
  if (should_record(inputs)) return false;
  check_forward_anomaly(name, out);
  return true;
}

/// Records `out` as the result of op `name` on `inputs`, with `backward` turning the gradient
/// of `out` into one gradient per input. Does nothing when there is nothing to record.
template <class Backward>
Tensor record(const char* name, Tensor out, std::initializer_list<const Tensor*> inputs,
              Backward&& backward) {
  check_forward_anomaly(name, out);
  if (!should_record(inputs)) return out;
  attach(name, out, make_record(std::forward<Backward>(backward)), inputs.begin(), inputs.size());
  return out;
}

/// The same for ops with a run-time number of inputs (cat).
template <class Backward>
Tensor record(const char* name, Tensor out, const std::vector<Tensor>& inputs,
              Backward&& backward) {
  check_forward_anomaly(name, out);
  std::vector<const Tensor*> pointers;
  pointers.reserve(inputs.size());
  bool any = false;
  for (const Tensor& t : inputs) {
    pointers.push_back(&t);
    any = any || t.requires_grad();
  }
  if (!is_grad_enabled() || !any) return out;
  attach(name, out, make_record(std::forward<Backward>(backward)), pointers.data(),
         pointers.size());
  return out;
}

}  // namespace tg::detail
