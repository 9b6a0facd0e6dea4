// The elementwise recurrent workload of bench/lstm_tapegrad.cpp, written in libtorch as a
// PyTorch user would write it: the same 2-layer LSTM-style network on 16-wide vectors, fed the
// same values (bench/lstm_harness.hpp, so both print the same loss), timed in the same phases.
// Usage:
//   lstm_libtorch [--steps 1024] [--repeats 7] [--width 16]
#include <torch/torch.h>

#include <vector>

#include "lstm_harness.hpp"

namespace {

struct Gate {
  torch::Tensor wx, wh, b;  // [width] each: gate = act(wx * x + wh * h + b)
};

struct Layer {
  Gate input, forget, cell, output;
};

int64_t next_seed = 0;

torch::Tensor pattern(int64_t width, double scale) {
  return torch::tensor(bench::lstm_pattern(width, scale, next_seed++), torch::kFloat64);
}

torch::Tensor parameter(int64_t width, double scale) {
  return pattern(width, scale).requires_grad_(true);
}

Gate make_gate(int64_t width) {
  return {parameter(width, 0.5), parameter(width, 0.5), parameter(width, 0.0)};
}

Layer make_layer(int64_t width) {
  return {make_gate(width), make_gate(width), make_gate(width), make_gate(width)};
}

torch::Tensor pre(const Gate& g, const torch::Tensor& x, const torch::Tensor& h) {
  return g.wx * x + g.wh * h + g.b;
}

torch::Tensor forward(const std::vector<Layer>& layers, const std::vector<torch::Tensor>& xs,
                      const std::vector<torch::Tensor>& targets, int64_t width) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  std::vector<torch::Tensor> h(layers.size()), c(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    h[l] = torch::zeros({width}, f64);
    c[l] = torch::zeros({width}, f64);
  }
  torch::Tensor loss = torch::zeros({}, f64);
  for (size_t t = 0; t < xs.size(); ++t) {
    torch::Tensor x = xs[t];
    for (size_t l = 0; l < layers.size(); ++l) {
      const Layer& L = layers[l];
      const torch::Tensor i = torch::sigmoid(pre(L.input, x, h[l]));
      const torch::Tensor f = torch::sigmoid(pre(L.forget, x, h[l]));
      const torch::Tensor g = torch::tanh(pre(L.cell, x, h[l]));
      const torch::Tensor o = torch::sigmoid(pre(L.output, x, h[l]));
      c[l] = f * c[l] + i * g;
      h[l] = o * torch::tanh(c[l]);
      x = h[l];
    }
    const torch::Tensor d = x - targets[t];
    loss = loss + (d * d).sum();
  }
  return loss;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::LstmArgs args = bench::parse_lstm_args(argc, argv);
  torch::set_num_threads(1);
  std::vector<Layer> layers{make_layer(args.width), make_layer(args.width)};
  std::vector<torch::Tensor> xs, targets;
  for (int64_t t = 0; t < args.steps; ++t) {
    xs.push_back(pattern(args.width, 1.0));
    targets.push_back(pattern(args.width, 0.1));
  }

  std::vector<bench::LstmRound> rounds;
  double nograd_value = 0, loss_value = 0;
  for (int64_t r = 0; r < args.repeats + 1; ++r) {  // the first round warms the allocator up
    bench::LstmRound round;
    round.nograd = bench::time_ms([&] {
      torch::NoGradGuard no_grad;
      nograd_value = forward(layers, xs, targets, args.width).item<double>();
    });
    torch::Tensor loss;
    round.record = bench::time_ms([&] { loss = forward(layers, xs, targets, args.width); });
    round.backward = bench::time_ms([&] { loss.backward(); });
    loss_value = loss.item<double>();
    round.teardown = bench::time_ms([&] { loss = torch::Tensor(); });
    for (Layer& L : layers)
      for (Gate* g : {&L.input, &L.forget, &L.cell, &L.output})
        for (torch::Tensor* t : {&g->wx, &g->wh, &g->b}) t->mutable_grad().zero_();
    if (r > 0) rounds.push_back(round);
  }
  return bench::report_lstm(args, nograd_value, loss_value, rounds);
}
