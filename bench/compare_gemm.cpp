// The GEMM-only floor: the BLAS products of one training step's forward and backward, nothing
// else, each made the fastest way this BLAS offers (see `product` below).
//
// Per Linear layer with input X [B, in] and weight W [out, in]: forward Y = X W^T, backward
// dW = dY^T X and, for every layer but the first (the data needs no gradient), dX = dY W.
// Bias, activations, loss and optimizer are left out: this is the rate no framework can beat.
#include <cblas.h>

#include <cstdio>
#include <random>
#include <vector>

#include "harness.hpp"

namespace {

// C = op(A) op(B), row-major, as tapegrad's own products run (autograd/src/blas.cpp): sgemv
// when C is one row or one column, and one thread below 2^22 multiply-adds, where a second
// thread slows OpenBLAS 0.3.21 down on this machine. Either way it beats plain sgemm, so the
// floor stays a floor.
void product(bool ta, bool tb, int m, int n, int k, const float* a, const float* b, float* c,
             int threads) {
  const bool single = threads > 1 && double(m) * n * k < double(1 << 22);
  if (single) openblas_set_num_threads(1);
  auto flag = [](bool t) { return t ? CblasTrans : CblasNoTrans; };
  if (n == 1)
    cblas_sgemv(CblasRowMajor, flag(ta), ta ? k : m, ta ? m : k, 1.0f, a, ta ? m : k, b, 1, 0.0f, c,
                1);
  else if (m == 1)
    cblas_sgemv(CblasRowMajor, flag(!tb), tb ? n : k, tb ? k : n, 1.0f, b, tb ? k : n, a, 1, 0.0f,
                c, 1);
  else
    cblas_sgemm(CblasRowMajor, flag(ta), flag(tb), m, n, k, 1.0f, a, ta ? m : k, b, tb ? k : n,
                0.0f, c, n);
  if (single) openblas_set_num_threads(threads);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args = bench::parse_args(argc, argv);
  const bench::Workload& w = bench::find_workload(args.workload);
  if (w.layers.empty()) {
    std::fprintf(stderr, "workload %s has no GEMMs\n", w.name.c_str());
    return 2;
  }
  openblas_set_num_threads(args.threads);

  std::mt19937 generator(0);
  std::normal_distribution<float> normal(0.0f, 0.1f);
  auto filled = [&](size_t n) {
    std::vector<float> v(n);
    for (float& e : v) e = normal(generator);
    return v;
  };
  const size_t layers = w.layers.size() - 1;
  const int b = static_cast<int>(w.batch);
  std::vector<std::vector<float>> activations, weights, weight_grads, activation_grads;
  activations.push_back(filled(size_t(b) * size_t(w.layers[0])));
  for (size_t i = 0; i < layers; ++i) {
    size_t in = size_t(w.layers[i]), out = size_t(w.layers[i + 1]);
    weights.push_back(filled(out * in));
    weight_grads.push_back(std::vector<float>(out * in));
    activations.push_back(std::vector<float>(size_t(b) * out));
    activation_grads.push_back(filled(size_t(b) * out));  // dY of layer i
  }

  bench::run(
      "gemm", args,
      [&] {
        for (size_t i = 0; i < layers; ++i) {
          const int in = int(w.layers[i]), out = int(w.layers[i + 1]);
          product(false, true, b, out, in, activations[i].data(), weights[i].data(),
                  activations[i + 1].data(), args.threads);
        }
        for (size_t i = layers; i-- > 0;) {
          const int in = int(w.layers[i]), out = int(w.layers[i + 1]);
          product(true, false, out, in, b, activation_grads[i].data(), activations[i].data(),
                  weight_grads[i].data(), args.threads);
          if (i > 0)
            product(false, false, b, in, out, activation_grads[i].data(), weights[i].data(),
                    activation_grads[i - 1].data(), args.threads);
        }
      },
      [&] { return double(activations.back()[0]); });
  return 0;
}
