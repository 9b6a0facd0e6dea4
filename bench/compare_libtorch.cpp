// libtorch's side of the comparison: the same workloads, model, losses and optimizers, in libtorch.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "harness.hpp"

namespace {

torch::Tensor make_target(const bench::Workload& w) {
  int64_t out = w.layers.back();
  if (w.loss == "mse") return torch::randn({w.batch, out});
  if (w.loss == "bce_logits") return torch::randint(0, 2, {w.batch, out}).to(torch::kFloat);
  return torch::randint(0, out, {w.batch}, torch::kLong);
}

// 1000 alternating mul and add on 0-D tensors, then backward, as on tapegrad's side.
void run_chain(const bench::Args& args, const bench::Workload& w) {
  torch::Tensor x = torch::tensor(1.0f, torch::requires_grad());
  torch::Tensor scale = torch::tensor(0.999f);
  torch::Tensor shift = torch::tensor(0.001f);
  torch::Tensor y;
  bench::run(
      "libtorch", args,
      [&] {
        y = x;
        for (int64_t i = 0; i < w.chain_length; i += 2) {
          y = y * scale;
          y = y + shift;
        }
        y.backward();
        x.mutable_grad() = torch::Tensor();  // as tapegrad's zero_grad: drop, don't zero
      },
      [&] { return y.item<double>(); });
}

// micrograd's expression on f64 0-D scalars, as on tapegrad's side: fresh leaves every
// iteration (as BurTorch's PyTorch script does), so no gradient needs resetting.
void run_tiny_graph(const bench::Args& args) {
  const auto leaf = torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true);
  torch::Tensor a, b, g;
  auto iteration = [&] {
    a = torch::scalar_tensor(-41.0, leaf);
    b = torch::scalar_tensor(2.0, leaf);
    torch::Tensor c = a + b;
    torch::Tensor d = a * b + b.pow(3);
    torch::Tensor e = c - d;
    torch::Tensor f = e.pow(2);
    g = f / 2.0;
    g.backward();
  };
  // By hand: g = 612.5, dg/da = -35, dg/db = 1050 (see compare_tapegrad.cpp).
  iteration();
  const double value = g.item<double>(), grad_a = a.grad().item<double>(),
               grad_b = b.grad().item<double>();
  if (std::abs(value - 612.5) > 1e-9 || std::abs(grad_a + 35.0) > 1e-9 ||
      std::abs(grad_b - 1050.0) > 1e-9) {
    std::fprintf(stderr, "tiny_graph computed g = %g, a.grad = %g, b.grad = %g\n", value, grad_a,
                 grad_b);
    std::exit(1);
  }
  bench::run("libtorch", args, iteration, [&] { return g.item<double>(); });
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args = bench::parse_args(argc, argv);
  const bench::Workload& w = bench::find_workload(args.workload);
  // Inter-op threads can only be set before any parallel work has started.
  at::set_num_interop_threads(args.threads);
  torch::set_num_threads(args.threads);
  torch::manual_seed(0);
  if (w.chain_length > 0) {
    run_chain(args, w);
    return 0;
  }
  if (w.name == "tiny_graph") {
    run_tiny_graph(args);
    return 0;
  }

  torch::nn::Sequential net;
  for (size_t i = 0; i + 1 < w.layers.size(); ++i) {
    net->push_back(torch::nn::Linear(w.layers[i], w.layers[i + 1]));
    if (i + 2 < w.layers.size()) net->push_back(torch::nn::ReLU());
  }
  torch::Tensor x = torch::randn({w.batch, w.layers.front()});
  torch::Tensor target = make_target(w);
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (w.optimizer == "adam")
    optimizer =
        std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-3));
  else
    optimizer =
        std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.01));

  namespace F = torch::nn::functional;
  torch::Tensor loss;
  bench::run(
      "libtorch", args,
      [&] {
        optimizer->zero_grad();
        torch::Tensor z = net->forward(x);
        if (w.loss == "mse")
          loss = F::mse_loss(z, target);
        else if (w.loss == "bce_logits")
          loss = F::binary_cross_entropy_with_logits(z, target);
        else
          loss = F::cross_entropy(z, target);
        loss.backward();
        optimizer->step();
      },
      [&] { return loss.item<double>(); });
  return 0;
}
