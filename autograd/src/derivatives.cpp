// jvp, vjp, jacobian, hessian and hvp on top of tg::grad, as torch.autograd.functional.
#include "tapegrad/autograd/derivatives.hpp"

#include <fmt/format.h>

#include "kernels.hpp"
#include "tapegrad/autograd/backward.hpp"
#include "tapegrad/autograd/grad_mode.hpp"
#include "tapegrad/autograd/ops.hpp"

namespace tg::autograd {
namespace {

// Fresh leaves with the inputs' values that require grad, so f's graph starts at them (the
// callers' tensors and their histories are left alone, as in torch.autograd.functional).
std::vector<Tensor> differentiable_copies(const char* op, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> copies;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& input = inputs[i];
    if (!input.defined()) throw Error(fmt::format("{}: input {} is undefined", op, i));
    if (!is_floating(input.dtype()))
      throw Error(fmt::format("{}: input {} is {} (shape {}); derivatives need f32 or f64", op, i,
                              dtype_name(input.dtype()), format_shape(input.shape())));
    copies.push_back(input.detach().clone().set_requires_grad());
  }
  return copies;
}

Tensor evaluate(const char* op, const TensorFunction& f, const std::vector<Tensor>& inputs) {
  EnableGradGuard grad_mode;
  Tensor out = f(inputs);
  if (!out.defined()) throw Error(fmt::format("{}: the function returned an undefined tensor", op));
  return out;
}

// A gradient tg::grad left undefined (the output does not depend on that input) is zero.
Tensor or_zeros(const Tensor& g, const Tensor& like) {
  return g.defined() ? g : zeros(like.shape(), {.dtype = like.dtype()});
}

Shape concat(const Shape& a, const Shape& b) {
  Shape out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

void check_same_shape(const char* op, const char* what, const Tensor& given, const Tensor& want) {
  if (!given.defined() || given.shape() != want.shape())
    throw Error(fmt::format("{}: {} of shape {} does not match {}", op, what,
                            given.defined() ? format_shape(given.shape()) : "undefined",
                            format_shape(want.shape())));
}

Tensor scalar_function_value(const char* op, const std::function<Tensor(const Tensor&)>& f,
                             const Tensor& x) {
  EnableGradGuard grad_mode;
  Tensor y = f(x);
  if (!y.defined() || y.numel() != 1)
    throw Error(fmt::format("{}: the function must return one element, got shape {}", op,
                            y.defined() ? format_shape(y.shape()) : "undefined"));
  return y;
}

// ∇f(x) recorded with create_graph, so it can be differentiated again; zeros if f ignores x.
Tensor recorded_gradient(const Tensor& y, const Tensor& x) {
  if (!y.requires_grad()) return zeros(x.shape(), {.dtype = x.dtype()});
  return or_zeros(grad({y}, {x}, {}, /*create_graph=*/true)[0], x);
}

}  // namespace

std::pair<Tensor, Tensor> jvp(const TensorFunction& f, std::vector<Tensor> inputs,
                              std::vector<Tensor> tangents) {
  if (tangents.size() != inputs.size())
    throw Error(fmt::format("jvp: {} tangents for {} inputs", tangents.size(), inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    check_same_shape("jvp", fmt::format("tangent {}", i).c_str(), tangents[i], inputs[i]);
  const std::vector<Tensor> x = differentiable_copies("jvp", inputs);
  const Tensor y = evaluate("jvp", f, x);
  if (!y.requires_grad()) return {y.detach(), zeros(y.shape(), {.dtype = y.dtype()})};
  // Jᵀu is linear in u, so its derivative along t with respect to u is J·t.
  const Tensor u = zeros(y.shape(), {.dtype = y.dtype()}).set_requires_grad();
  const std::vector<Tensor> transposed = grad({y}, x, {u}, /*create_graph=*/true);
  std::vector<Tensor> outputs, weights;
  for (size_t i = 0; i < x.size(); ++i)
    if (transposed[i].defined() && transposed[i].requires_grad()) {
      outputs.push_back(transposed[i]);
      weights.push_back(tangents[i].to(transposed[i].dtype()));
    }
  if (outputs.empty()) return {y.detach(), zeros(y.shape(), {.dtype = y.dtype()})};
  return {y.detach(), or_zeros(grad(outputs, {u}, weights)[0], y).detach()};
}

std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f, std::vector<Tensor> inputs,
                                           Tensor v) {
  const std::vector<Tensor> x = differentiable_copies("vjp", inputs);
  const Tensor y = evaluate("vjp", f, x);
  if (v.defined())
    check_same_shape("vjp", "v", v, y);
  else if (y.numel() != 1)
    throw Error(
        fmt::format("vjp: the output has shape {}; pass v of that shape", format_shape(y.shape())));
  std::vector<Tensor> grads(x.size());
  if (y.requires_grad()) grads = grad({y}, x, {v.defined() ? v : Tensor()});
  for (size_t i = 0; i < x.size(); ++i) grads[i] = or_zeros(grads[i], x[i]).detach();
  return {y.detach(), std::move(grads)};
}

std::vector<Tensor> jacobian(const TensorFunction& f, std::vector<Tensor> inputs) {
  const std::vector<Tensor> x = differentiable_copies("jacobian", inputs);
  const Tensor y = evaluate("jacobian", f, x);
  // rows[i][j]: d y[j] / d x[i], flattened; one backward per output element.
  std::vector<std::vector<double>> rows(x.size());
  for (int64_t j = 0; j < y.numel(); ++j) {
    std::vector<Tensor> grads(x.size());
    if (y.requires_grad()) {
      Tensor seed = zeros(y.shape(), {.dtype = y.dtype()});
      detail::dispatch(seed.dtype(), [&]<class T>() { detail::data_of<T>(seed)[j] = T(1); });
      grads = grad({y}, x, {seed}, /*create_graph=*/false, /*retain_graph=*/true);
    }
    for (size_t i = 0; i < x.size(); ++i) {
      const std::vector<double> g = or_zeros(grads[i], x[i]).to_vector();
      rows[i].insert(rows[i].end(), g.begin(), g.end());
    }
  }
  std::vector<Tensor> out;
  for (size_t i = 0; i < x.size(); ++i)
    out.push_back(tensor(rows[i], concat(y.shape(), x[i].shape()), {.dtype = x[i].dtype()}));
  return out;
}

Tensor hessian(const std::function<Tensor(const Tensor&)>& f, Tensor x) {
  const Tensor leaf = differentiable_copies("hessian", {x})[0];
  const Tensor y = scalar_function_value("hessian", f, leaf);
  const Tensor g = recorded_gradient(y, leaf);
  // Row i of H is the gradient of ∂f/∂x_i.
  std::vector<double> entries;
  for (int64_t i = 0; i < leaf.numel(); ++i) {
    Tensor row;
    if (g.requires_grad()) {
      Tensor seed = zeros(g.shape(), {.dtype = g.dtype()});
      detail::dispatch(seed.dtype(), [&]<class T>() { detail::data_of<T>(seed)[i] = T(1); });
      row = grad({g}, {leaf}, {seed}, /*create_graph=*/false, /*retain_graph=*/true)[0];
    }
    const std::vector<double> values = or_zeros(row, leaf).to_vector();
    entries.insert(entries.end(), values.begin(), values.end());
  }
  return tensor(entries, concat(leaf.shape(), leaf.shape()), {.dtype = leaf.dtype()});
}

Tensor hvp(const std::function<Tensor(const Tensor&)>& f, Tensor x, Tensor v) {
  check_same_shape("hvp", "v", v, x);
  const Tensor leaf = differentiable_copies("hvp", {x})[0];
  const Tensor y = scalar_function_value("hvp", f, leaf);
  const Tensor g = recorded_gradient(y, leaf);
  if (!g.requires_grad()) return zeros(leaf.shape(), {.dtype = leaf.dtype()});
  return or_zeros(grad({g}, {leaf}, {v.to(g.dtype())})[0], leaf).detach();
}

}  // namespace tg::autograd
