// An elementwise recurrent workload: a 2-layer LSTM-style network on 16-wide vectors unrolled
// over 1,024 steps (~51,000 small ops per forward), timed per phase: no-grad forward, forward
// with recording, backward, teardown of the graph.
//
// Written as a user would write it with tapegrad's ops. Each gate is elementwise ("diagonal"
// weights, one per unit), so every op works on a 16-element vector and the run measures the
// fixed cost of an op, not arithmetic. Usage:
//   lstm_tapegrad [--steps 1024] [--repeats 7] [--width 16]
// Prints one line per phase (median milliseconds over the repeats) and the ratio of the
// gradient's cost (recording forward + backward + teardown) to the no-grad forward's.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tapegrad.hpp"

namespace {

struct Gate {
  tg::Tensor wx, wh, b;  // [width] each: gate = act(wx * x + wh * h + b)
};

struct Layer {
  Gate input, forget, cell, output;
};

tg::Tensor parameter(int64_t width, double scale) {
  tg::Tensor p = tg::randn({width}, {.dtype = tg::f64}) * scale;
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

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t steps = 1024, repeats = 7, width = 16;
  for (int a = 1; a + 1 < argc; a += 2) {
    if (std::strcmp(argv[a], "--steps") == 0) steps = std::atoll(argv[a + 1]);
    if (std::strcmp(argv[a], "--repeats") == 0) repeats = std::atoll(argv[a + 1]);
    if (std::strcmp(argv[a], "--width") == 0) width = std::atoll(argv[a + 1]);
  }
  tg::set_num_threads(1);
  tg::manual_seed(0);
  std::vector<Layer> layers{make_layer(width), make_layer(width)};
  std::vector<tg::Tensor> xs, targets;
  for (int64_t t = 0; t < steps; ++t) {
    xs.push_back(tg::randn({width}, {.dtype = tg::f64}));
    targets.push_back(tg::randn({width}, {.dtype = tg::f64}) * 0.1);
  }

  std::vector<double> nograd, record, backward, teardown;
  double value_nograd = 0, value_grad = 0;
  for (int64_t r = 0; r < repeats + 1; ++r) {  // the first round warms the free lists up
    auto start = std::chrono::steady_clock::now();
    {
      tg::NoGradGuard no_grad;
      value_nograd = forward(layers, xs, targets, width).item();
    }
    const double t_nograd = ms_since(start);

    start = std::chrono::steady_clock::now();
    tg::Tensor loss = forward(layers, xs, targets, width);
    const double t_record = ms_since(start);
    start = std::chrono::steady_clock::now();
    loss.backward();
    const double t_backward = ms_since(start);
    value_grad = loss.item();
    start = std::chrono::steady_clock::now();
    loss = tg::Tensor();  // the graph's records were freed by backward; this frees the rest
    const double t_teardown = ms_since(start);
    for (Layer& L : layers)
      for (Gate* g : {&L.input, &L.forget, &L.cell, &L.output})
        for (tg::Tensor* t : {&g->wx, &g->wh, &g->b}) t->zero_grad();
    if (r == 0) continue;
    nograd.push_back(t_nograd);
    record.push_back(t_record);
    backward.push_back(t_backward);
    teardown.push_back(t_teardown);
  }
  if (value_nograd != value_grad) {
    std::fprintf(stderr, "the two forwards disagree: %.17g vs %.17g\n", value_nograd, value_grad);
    return 1;
  }
  const double gradient = median(record) + median(backward) + median(teardown);
  std::printf("lstm 2x%lld, %lld steps, loss %.6g, median of %lld runs (ms):\n",
              static_cast<long long>(width), static_cast<long long>(steps), value_grad,
              static_cast<long long>(repeats));
  std::printf("  no-grad forward    %9.3f\n", median(nograd));
  std::printf("  forward, recording %9.3f\n", median(record));
  std::printf("  backward           %9.3f\n", median(backward));
  std::printf("  teardown           %9.3f\n", median(teardown));
  std::printf("  gradient / no-grad forward: %.2fx\n", gradient / median(nograd));
  return 0;
}
