// The chain rule made visible: one logistic-regression example (w = b = 0, x = [3, 2], y = 1)
// recorded on the tape, printed, and backpropagated record by record.
#include <fmt/format.h>

#include <fstream>
#include <tapegrad.hpp>

int main(int argc, char** argv) {
  tg::autograd::TapeInspectionGuard inspect;  // records keep values and incoming gradients
  tg::Tensor w = tg::zeros({2}, {.dtype = tg::f64, .requires_grad = true});
  tg::Tensor b = tg::scalar(0.0, {.dtype = tg::f64, .requires_grad = true});
  const tg::Tensor x = tg::tensor({3.0, 2.0}, {.dtype = tg::f64});

  const tg::Tensor z = (w * x).sum() + b;  // z = w·x + b = 0
  const tg::Tensor p = tg::sigmoid(z);     // p = σ(z) = 0.5
  const tg::Tensor loss = -tg::log(p);     // y = 1: BCE = −log p = 0.693

  fmt::print("forward: z = {}, p = σ(z) = {}, loss = −log p = {:.6f}\n\n", z.item(), p.item(),
             loss.item());
  fmt::print("the tape before backward (leaves, then records in the order they ran):\n{}\n",
             tg::autograd::format_tape(loss, {.values = true, .gradients = false}));

  loss.backward({.retain_graph = true});
  fmt::print("after backward, each record shows the gradient of the loss w.r.t. its output:\n{}\n",
             tg::autograd::format_tape(loss));
  fmt::print(
      "read it from the bottom up, one local derivative per record:\n"
      "  #6 neg:     dloss/dloss = 1,           local d(−u)/du = −1      → 1 · −1 = −1\n"
      "  #5 log:     incoming −1,              local d(log p)/dp = 1/p = 2 → −1 · 2 = −2\n"
      "  #4 sigmoid: incoming −2,              local σ(1−σ) = 0.25     → −2 · 0.25 = −0.5\n"
      "  #3 add:     incoming −0.5, passes −0.5 to the sum and to b     → dloss/db = −0.5\n"
      "  #2 sum:     incoming −0.5, copies it to every product\n"
      "  #1 mul:     incoming −0.5, local d(w·x)/dw = x = [3, 2]       → dloss/dw = [−1.5, "
      "−1]\n\n");
  fmt::print("gradient (w₁, w₂, b) = ({}, {}, {})  — p − y times (x₁, x₂, 1)\n",
             w.grad().to_vector()[0], w.grad().to_vector()[1], b.grad().item());

  const std::string dot_path = argc > 1 ? argv[1] : "tape.dot";
  std::ofstream(dot_path) << tg::autograd::to_dot(loss);
  fmt::print("Graphviz graph written to {} (render: dot -Tsvg {} -o tape.svg)\n", dot_path,
             dot_path);
}
