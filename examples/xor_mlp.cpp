// XOR, the smallest problem that needs a hidden layer: logistic regression cannot fit it, a 2-4-1
// network with tanh units can; the tape of one training step is printed along the way.
#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <tapegrad.hpp>
#include <vector>

namespace {

namespace F = tg::nn::functional;

// The four points of XOR: y = 1 when exactly one input is 1. No line w·x + b = 0 puts (0, 1) and
// (1, 0) on one side and (0, 0) and (1, 1) on the other, so no linear model separates them.
const tg::Tensor kInputs = tg::tensor({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}, {.dtype = tg::f64});
const tg::Tensor kTargets = tg::tensor({0, 1, 1, 0}, {4, 1}, {.dtype = tg::f64});

// Full-batch training on binary cross-entropy with SGD + momentum; returns the final loss. The
// model outputs logits z, and p(y = 1) = σ(z).
double train(tg::nn::Module& model, int steps, bool print_tape) {
  tg::optim::SGD optimizer(model.parameters(), {.lr = 0.1, .momentum = 0.9});
  double last_loss = 0;
  for (int step = 1; step <= steps; ++step) {
    // On the first step only, keep every record's value on the tape for printing.
    const bool inspect = print_tape && step == 1;
    std::optional<tg::autograd::TapeInspectionGuard> guard;
    if (inspect) guard.emplace();
    const tg::Tensor loss = F::binary_cross_entropy_with_logits(model(kInputs), kTargets);
    if (inspect) {
      fmt::print(
          "the tape of the first training step (leaves: W₁, b₁, W₂, b₂; const: the inputs):\n{}\n",
          tg::autograd::format_tape(loss, {.values = true, .gradients = false}));
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    last_loss = loss.item();
  }
  return last_loss;
}

}  // namespace

int main() {
  tg::manual_seed(1);

  // Without a hidden layer: z = w·x + b. By symmetry the best it can do is w = 0, b = 0, p = ½ for
  // every point, a loss of log 2 = 0.6931.
  tg::nn::Linear linear_only(2, 1);
  linear_only.to(tg::f64);
  const double linear_loss = train(linear_only, 2000, /*print_tape=*/false);
  fmt::print("no hidden layer, Linear(2, 1): loss after 2000 steps {:.4f} (log 2 = 0.6931)\n\n",
             linear_loss);

  // One hidden layer of 4 tanh units: h = tanh(x·W₁ᵀ + b₁), z = h·W₂ᵀ + b₂. The hidden units bend
  // the input space so that the output unit's single line can separate the classes.
  tg::nn::Sequential model(tg::nn::Linear(2, 4), tg::nn::Tanh(), tg::nn::Linear(4, 1));
  model.to(tg::f64);
  const int steps = 1000;
  const double loss = train(model, steps, /*print_tape=*/true);
  fmt::print("2-4-1 tanh network: loss after {} steps {:.4f}\n", steps, loss);

  tg::NoGradGuard no_grad;
  const std::vector<double> p = tg::sigmoid(model(kInputs)).to_vector();
  const std::vector<double> x = kInputs.to_vector(), y = kTargets.to_vector();
  int correct = 0;
  fmt::print("  x₁  x₂   y   p(y=1)  predicted\n");
  for (size_t i = 0; i < p.size(); ++i) {
    const int predicted = p[i] > 0.5 ? 1 : 0;
    correct += predicted == static_cast<int>(y[i]) ? 1 : 0;
    fmt::print("  {:>2}  {:>2}  {:>2}   {:.4f}  {:>9}\n", x[2 * i], x[2 * i + 1], y[i], p[i],
               predicted);
  }
  fmt::print("{}/4 correct\n", correct);
  return correct == 4 ? 0 : 1;
}
