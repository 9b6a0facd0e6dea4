// An elementwise recurrent workload: a 2-layer LSTM-style network on 16-wide vectors unrolled
// over 1,024 steps (~51,000 small ops per forward), timed per phase: no-grad forward, forward
// with recording, backward, teardown of the graph.
//
// Written as a user would write it with tapegrad's ops. Each gate is elementwise ("diagonal"
// weights, one per unit), so every op works on a 16-element vector and the run measures the
// fixed cost of an op, not arithmetic. bench/lstm_libtorch.cpp is the same network in libtorch,
// fed the same values (bench/lstm_harness.hpp), so the two print the same loss. Usage:
//   lstm_tapegrad [--steps 1024] [--repeats 7] [--width 16]
// Prints one line per phase (median milliseconds over the repeats) and the ratio of the
// gradient's cost (recording forward + backward + teardown) to the no-grad forward's.
#include <vector>

#include "lstm_harness.hpp"
#include "tapegrad.hpp"

namespace {

struct Gate {
  tg::Tensor wx, wh, b;  // [width] each: gate = act(wx * x + wh * h + b)
};

struct Layer {
  Gate input, forget, cell, output;
};

int64_t next_seed = 0;

tg::Tensor pattern(int64_t width, double scale) {
  return tg::tensor(bench::lstm_pattern(width, scale, next_seed++), {width}, {.dtype = tg::f64});
}

tg::Tensor parameter(int64_t width, double scale) {
  tg::Tensor p = pattern(width, scale);
  p.set_requires_grad(true);
  return p;
}

Gate make_gate(int64_t width) {
  return {parameter(width, 0.5), parameter(width, 0.5), parameter(width, 0.0)};
}

Layer make_layer(int64_t width) {
  return {make_gate(width), make_gate(width), make_gate(width), make_gate(width)};
}

tg::Tensor pre(const Gate& g, const tg::Tensor& x, const tg::Tensor& h) {
  return g.wx * x + g.wh * h + g.b;
}

// The sum of squares of every step's top-layer output minus its target.
tg::Tensor forward(const std::vector<Layer>& layers, const std::vector<tg::Tensor>& xs,
                   const std::vector<tg::Tensor>& targets, int64_t width) {
  std::vector<tg::Tensor> h(layers.size()), c(layers.size());
  for (size_t l = 0; l < layers.size(); ++l) {
    h[l] = tg::zeros({width}, {.dtype = tg::f64});
    c[l] = tg::zeros({width}, {.dtype = tg::f64});
  }
  tg::Tensor loss = tg::zeros({}, {.dtype = tg::f64});
  for (size_t t = 0; t < xs.size(); ++t) {
    tg::Tensor x = xs[t];
    for (size_t l = 0; l < layers.size(); ++l) {
      const Layer& L = layers[l];
      const tg::Tensor i = tg::sigmoid(pre(L.input, x, h[l]));
      const tg::Tensor f = tg::sigmoid(pre(L.forget, x, h[l]));
      const tg::Tensor g = tg::tanh(pre(L.cell, x, h[l]));
      const tg::Tensor o = tg::sigmoid(pre(L.output, x, h[l]));
      c[l] = f * c[l] + i * g;
      h[l] = o * tg::tanh(c[l]);
      x = h[l];
    }
    const tg::Tensor d = x - targets[t];
    loss = loss + (d * d).sum();
  }
  return loss;
}

}  // namespace

int main(int argc, char** argv) {
  const bench::LstmArgs args = bench::parse_lstm_args(argc, argv);
  tg::set_num_threads(1);
  std::vector<Layer> layers{make_layer(args.width), make_layer(args.width)};
  std::vector<tg::Tensor> xs, targets;
  for (int64_t t = 0; t < args.steps; ++t) {
    xs.push_back(pattern(args.width, 1.0));
    targets.push_back(pattern(args.width, 0.1));
  }

  std::vector<bench::LstmRound> rounds;
  double nograd_value = 0, loss_value = 0;
  for (int64_t r = 0; r < args.repeats + 1; ++r) {  // the first round warms the free lists up
    bench::LstmRound round;
    round.nograd = bench::time_ms([&] {
      tg::NoGradGuard no_grad;
      nograd_value = forward(layers, xs, targets, args.width).item();
    });
    tg::Tensor loss;
    round.record = bench::time_ms([&] { loss = forward(layers, xs, targets, args.width); });
    round.backward = bench::time_ms([&] { loss.backward(); });
    loss_value = loss.item();
    // backward freed the graph's records; dropping the loss frees the rest.
    round.teardown = bench::time_ms([&] { loss = tg::Tensor(); });
    for (Layer& L : layers)
      for (Gate* g : {&L.input, &L.forget, &L.cell, &L.output})
        for (tg::Tensor* t : {&g->wx, &g->wh, &g->b}) t->zero_grad();
    if (r > 0) rounds.push_back(round);
  }
  return bench::report_lstm(args, nograd_value, loss_value, rounds);
}
