// The GEMM-only floor: the cblas_sgemm calls of one training step's forward and backward, nothing
// else.
//
// Per Linear layer with input X [B, in] and weight W [out, in]: forward Y = X W^T, backward
// dW = dY^T X and, for every layer but the first (the data needs no gradient), dX = dY W.
// Bias, activations, loss and optimizer are left out: this is the rate no framework can beat.
#include <cblas.h>

#include <cstdio>
#include <random>
#include <vector>

#include "harness.hpp"

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
          int in = int(w.layers[i]), out = int(w.layers[i + 1]);
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, out, in, 1.0f,
                      activations[i].data(), in, weights[i].data(), in, 0.0f,
                      activations[i + 1].data(), out);
        }
        for (size_t i = layers; i-- > 0;) {
          int in = int(w.layers[i]), out = int(w.layers[i + 1]);
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, b, 1.0f,
                      activation_grads[i].data(), out, activations[i].data(), in, 0.0f,
                      weight_grads[i].data(), in);
          if (i > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, in, out, 1.0f,
                        activation_grads[i].data(), out, weights[i].data(), in, 0.0f,
                        activation_grads[i - 1].data(), in);
        }
      },
      [&] { return double(activations.back()[0]); });
  return 0;
}
