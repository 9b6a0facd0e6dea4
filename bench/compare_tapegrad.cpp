// tapegrad's side of the libtorch comparison: one workload's training step, timed by harness.hpp.
//
// The model is an nn::Sequential of nn::Linear and nn::ReLU with tg::nn::functional losses, as a
// user writes it. `--impl raw` builds the same model from autograd ops: tg::linear, tg::relu,
// log_softmax + gather; comparing the two shows what the module layer costs.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/nn.hpp"
#include "tapegrad/optim.hpp"

namespace {

/// A model and its loss as the step sees them: parameters, and loss(x, target).
struct Model {
  std::vector<tg::Tensor> parameters;
  std::function<tg::Tensor(const tg::Tensor&, const tg::Tensor&)> loss;
  std::shared_ptr<void> keep_alive;  // the nn module, when there is one
};

// The training target for each loss: regression values, 0/1 labels, or class indices.
tg::Tensor make_target(const bench::Workload& w) {
  int64_t out = w.layers.back();
  if (w.loss == "mse") return tg::randn({w.batch, out});
  if (w.loss == "bce_logits") return tg::randint(0, 2, {w.batch, out}).to(tg::f32);
  return tg::randint(0, out, {w.batch});
}

// BCE with logits in its stable form: max(z, 0) - z*t + log(1 + exp(-|z|)).
tg::Tensor raw_loss(const std::string& kind, const tg::Tensor& z, const tg::Tensor& target) {
  if (kind == "mse") {
    tg::Tensor d = z - target;
    return (d * d).mean();
  }
  if (kind == "bce_logits")
    return (tg::relu(z) - z * target + tg::log(1.0 + tg::exp(-tg::abs(z)))).mean();
  return -tg::log_softmax(z, 1).gather(1, target.unsqueeze(1)).mean();
}

Model raw_model(const bench::Workload& w) {
  Model m;
  std::vector<tg::Tensor> weights, biases;
  for (size_t i = 0; i + 1 < w.layers.size(); ++i) {
    // PyTorch's Linear init: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    double bound = 1.0 / std::sqrt(double(w.layers[i]));
    tg::Tensor weight = (tg::rand({w.layers[i + 1], w.layers[i]}) * (2 * bound) - bound).detach();
    tg::Tensor bias = (tg::rand({w.layers[i + 1]}) * (2 * bound) - bound).detach();
    weight.set_requires_grad();
    bias.set_requires_grad();
    weights.push_back(weight);
    biases.push_back(bias);
    m.parameters.push_back(weight);
    m.parameters.push_back(bias);
  }
  std::string kind = w.loss;
  m.loss = [weights, biases, kind](const tg::Tensor& x, const tg::Tensor& target) {
    tg::Tensor h = x;
    for (size_t i = 0; i < weights.size(); ++i) {
      h = tg::linear(h, weights[i], biases[i]);
      if (i + 1 < weights.size()) h = tg::relu(h);
    }
    return raw_loss(kind, h, target);
  };
  return m;
}

Model nn_model(const bench::Workload& w) {
  auto net = std::make_shared<tg::nn::Sequential>();
  for (size_t i = 0; i + 1 < w.layers.size(); ++i) {
    net->push_back(tg::nn::Linear(w.layers[i], w.layers[i + 1]));
    if (i + 2 < w.layers.size()) net->push_back(tg::nn::ReLU());
  }
  Model m;
  m.parameters = net->parameters();
  m.keep_alive = net;
  std::string kind = w.loss;
  m.loss = [net, kind](const tg::Tensor& x, const tg::Tensor& target) {
    tg::Tensor z = (*net)(x);
    if (kind == "mse") return tg::nn::functional::mse_loss(z, target);
    if (kind == "bce_logits")
      return tg::nn::functional::binary_cross_entropy_with_logits(z, target);
    return tg::nn::functional::cross_entropy(z, target);
  };
  return m;
}

// 1000 alternating mul and add on 0-D tensors, then backward: the per-op overhead bound.
void run_chain(const bench::Args& args, const bench::Workload& w) {
  tg::Tensor x = tg::scalar(1.0, {.requires_grad = true});
  tg::Tensor scale = tg::scalar(0.999);
  tg::Tensor shift = tg::scalar(0.001);
  tg::Tensor y;
  bench::run(
      "tapegrad", args,
      [&] {
        y = x;
        for (int64_t i = 0; i < w.chain_length; i += 2) {
          y = y * scale;
          y = y + shift;
        }
        y.backward();
        x.zero_grad();
      },
      [&] { return y.item(); });
}

// micrograd's expression on f64 0-D scalars, as BurTorch benchmarks it against micrograd and
// PyTorch: every iteration makes its two leaves anew (a = -41, b = 2), builds the graph and runs
// backward, so gradients start from nothing each time and nothing needs resetting; the
// previous iteration's leaves and graph are freed when the handles are reassigned.
void run_tiny_graph(const bench::Args& args) {
  const tg::TensorOptions leaf{.dtype = tg::f64, .requires_grad = true};
  tg::Tensor a, b, g;
  auto iteration = [&] {
    a = tg::scalar(-41.0, leaf);
    b = tg::scalar(2.0, leaf);
    tg::Tensor c = a + b;
    tg::Tensor d = a * b + b.pow(3);
    tg::Tensor e = c - d;
    tg::Tensor f = e.pow(2);
    g = f / 2.0;
    g.backward();
  };
  // By hand: e = (a + b) - (ab + b^3) = 35, g = e^2 / 2 = 612.5, dg/da = e (1 - b) = -35,
  // dg/db = e (1 - a - 3b^2) = 1050.
  iteration();
  if (std::abs(g.item() - 612.5) > 1e-9 || std::abs(a.grad().item() + 35.0) > 1e-9 ||
      std::abs(b.grad().item() - 1050.0) > 1e-9) {
    std::fprintf(stderr, "tiny_graph computed g = %g, a.grad = %g, b.grad = %g\n", g.item(),
                 a.grad().item(), b.grad().item());
    std::exit(1);
  }
  bench::run("tapegrad", args, iteration, [&] { return g.item(); });
}

}  // namespace

int main(int argc, char** argv) {
  std::string impl = "nn";
  // --keep-grads: zero each gradient in place instead of leaving it undefined (PyTorch's
  // zero_grad(set_to_none=False)), so that every backward accumulates into an existing .grad().
  bool keep_grads = false;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--impl" && i + 1 < argc)
      impl = argv[++i];
    else if (std::string(argv[i]) == "--keep-grads")
      keep_grads = true;
    else
      rest.push_back(argv[i]);
  }
  bench::Args args = bench::parse_args(int(rest.size()), rest.data());
  const bench::Workload& w = bench::find_workload(args.workload);
  tg::set_num_threads(args.threads);
  tg::manual_seed(0);
  if (w.chain_length > 0) {
    run_chain(args, w);
    return 0;
  }
  if (w.name == "tiny_graph") {
    run_tiny_graph(args);
    return 0;
  }

  Model model = impl == "raw" ? raw_model(w) : nn_model(w);
  tg::Tensor x = tg::randn({w.batch, w.layers.front()});
  tg::Tensor target = make_target(w);
  std::unique_ptr<tg::optim::Optimizer> optimizer;
  if (w.optimizer == "adam")
    optimizer =
        std::make_unique<tg::optim::Adam>(model.parameters, tg::optim::AdamOptions{.lr = 1e-3});
  else
    optimizer =
        std::make_unique<tg::optim::SGD>(model.parameters, tg::optim::SGDOptions{.lr = 0.01});

  tg::Tensor loss;
  std::string label = impl == "raw" ? "tapegrad-raw" : "tapegrad";
  bench::run(
      label.c_str(), args,
      [&] {
        if (keep_grads) {
          tg::NoGradGuard no_grad;
          for (tg::Tensor& p : model.parameters)
            if (p.grad().defined()) p.mutable_grad().zero_();
        } else {
          optimizer->zero_grad();
        }
        loss = model.loss(x, target);
        loss.backward();
        optimizer->step();
      },
      [&] { return loss.item(); });
  return 0;
}
