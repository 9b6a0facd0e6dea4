// detail::record: puts an op's output on the tape together with its backward.
#pragma once

#include <initializer_list>
#include <utility>
#include <vector>

#include "node.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/tape.hpp"

namespace tg::detail {

/// True if recording is on and some input wants a gradient.
inline bool should_record(std::initializer_list<const Tensor*> inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

/// True while this thread runs a backward pass (anomalies there are reported as backward's).
bool in_backward();
void set_in_backward(bool running);

/// In anomaly mode, throws if `out` holds NaN or Inf, naming op `name`.
void check_forward_anomaly(const char* name, const Tensor& out);

/// Links `out` to a new record of `name` whose edges lead to `inputs`; called only when
/// should_record() said yes.
void attach(const char* name, Tensor& out, std::shared_ptr<Node> node, const Tensor* const* inputs,
            size_t count);

/// Records `out` as the result of op `name` on `inputs`, with `backward` turning the gradient
/// of `out` into one gradient per input. Does nothing when there is nothing to record.
template <class Backward>
Tensor record(const char* name, Tensor out, std::initializer_list<const Tensor*> inputs,
              Backward&& backward) {
  check_forward_anomaly(name, out);
  if (!should_record(inputs)) return out;
  auto node =
      std::make_shared<LambdaNode<std::decay_t<Backward>>>(std::forward<Backward>(backward));
  attach(name, out, std::move(node), inputs.begin(), inputs.size());
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
  auto node =
      std::make_shared<LambdaNode<std::decay_t<Backward>>>(std::forward<Backward>(backward));
  attach(name, out, std::move(node), pointers.data(), pointers.size());
  return out;
}

}  // namespace tg::detail
