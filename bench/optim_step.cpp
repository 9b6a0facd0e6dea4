// bench/optim_step: runs one optimizer's step() N times on a fixed MLP-sized set of f32
// parameters with fixed gradients. Its instructions per step are the difference of two runs'
// totals under `valgrind --tool=callgrind` (say 120 and 20 steps) over the difference of steps.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "tapegrad/autograd.hpp"
#include "tapegrad/optim.hpp"

#if __has_include("tapegrad/optim/nadam.hpp")
#define TG_BENCH_NEW_OPTIMIZERS 1
#endif

namespace {

using tg::optim::Optimizer;

// The layers of a 256-128-10 MLP, weights and biases (34,186 elements).
std::vector<tg::Tensor> parameters() {
  std::vector<tg::Tensor> params;
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{128, 256}, {128}, {10, 128}, {10}}) {
    tg::Tensor p = tg::randn(shape);
    p.set_requires_grad();
    // A gradient equal to a fixed random tensor, set once: each step reads it unchanged.
    (p * tg::randn(shape)).sum().backward();
    params.push_back(p);
  }
  return params;
}

std::unique_ptr<Optimizer> make(const std::string& name, std::vector<tg::Tensor> params) {
  using namespace tg::optim;
  if (name == "sgd") return std::make_unique<SGD>(params, SGDOptions{.lr = 1e-3});
  if (name == "sgd_momentum")
    return std::make_unique<SGD>(params, SGDOptions{.lr = 1e-3, .momentum = 0.9});
  if (name == "adam") return std::make_unique<Adam>(params, AdamOptions{.lr = 1e-3});
  if (name == "adamw") return std::make_unique<AdamW>(params, AdamWOptions{.lr = 1e-3});
  if (name == "adam_amsgrad")
    return std::make_unique<Adam>(params, AdamOptions{.lr = 1e-3, .amsgrad = true});
  if (name == "rmsprop") return std::make_unique<RMSprop>(params, RMSpropOptions{.lr = 1e-3});
  if (name == "rmsprop_centered_momentum")
    return std::make_unique<RMSprop>(params,
                                     RMSpropOptions{.lr = 1e-3, .momentum = 0.9, .centered = true});
  if (name == "adagrad") return std::make_unique<Adagrad>(params, AdagradOptions{.lr = 1e-3});
#ifdef TG_BENCH_NEW_OPTIMIZERS
  if (name == "nadam") return std::make_unique<NAdam>(params, NAdamOptions{.lr = 1e-3});
  if (name == "radam") return std::make_unique<RAdam>(params, RAdamOptions{.lr = 1e-3});
  if (name == "adamax") return std::make_unique<Adamax>(params, AdamaxOptions{.lr = 1e-3});
  if (name == "adadelta") return std::make_unique<Adadelta>(params, AdadeltaOptions{});
#endif
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: optim_step OPTIMIZER STEPS\n");
    return 2;
  }
  std::unique_ptr<Optimizer> optimizer = make(argv[1], parameters());
  if (!optimizer) {
    std::fprintf(stderr, "optim_step: unknown optimizer %s\n", argv[1]);
    return 2;
  }
  const long steps = std::atol(argv[2]);
  for (long i = 0; i < steps; ++i) optimizer->step();
  return 0;
}
