// Google Benchmark microbenchmarks: per-op recording overhead and the kernels behind the ops.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "tapegrad/autograd.hpp"

namespace {

// Record one mul of two 0-D tensors that require grad, then backward through it: the fixed
// cost of an op on the tape (record, allocation, dispatch, engine walk).
void BM_ScalarMulRecordBackward(benchmark::State& state) {
  tg::Tensor a = tg::scalar(1.5, {.requires_grad = true});
  tg::Tensor b = tg::scalar(2.0, {.requires_grad = true});
  for (auto _ : state) {
    tg::Tensor y = a * b;
    y.backward();
    a.zero_grad();
    b.zero_grad();
  }
}
BENCHMARK(BM_ScalarMulRecordBackward);

// The same mul with nothing recorded: the op's cost without the tape.
void BM_ScalarMulNoGrad(benchmark::State& state) {
  tg::Tensor a = tg::scalar(1.5);
  tg::Tensor b = tg::scalar(2.0);
  for (auto _ : state) {
    tg::Tensor y = a * b;
    benchmark::DoNotOptimize(y.impl());
  }
}
BENCHMARK(BM_ScalarMulNoGrad);

// A chain of n alternating mul/add, forward only and forward+backward; items = ops.
void BM_ScalarChain(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool backward = state.range(1) != 0;
  tg::Tensor x = tg::scalar(1.0, {.requires_grad = true});
  tg::Tensor scale = tg::scalar(0.999);
  tg::Tensor shift = tg::scalar(0.001);
  for (auto _ : state) {
    tg::Tensor y = x;
    for (int64_t i = 0; i < n; i += 2) {
      y = y * scale;
      y = y + shift;
    }
    if (backward) {
      y.backward();
      x.zero_grad();
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ScalarChain)->ArgsProduct({{1000}, {0, 1}})->ArgNames({"ops", "backward"});

// Elementwise kernels without recording, so the kernel (not the tape) is measured.
// Arg 0: elements of a = [n/100, 100]; arg 1: 1 broadcasts b = [100] along a's rows.
template <class Op>
void elementwise(benchmark::State& state, Op op) {
  tg::NoGradGuard no_grad;
  const int64_t n = state.range(0);
  const bool broadcast = state.range(1) != 0;
  tg::Tensor a = tg::randn({n / 100, 100});
  tg::Tensor b = broadcast ? tg::randn({100}) : tg::randn({n / 100, 100});
  for (auto _ : state) {
    tg::Tensor y = op(a, b);
    benchmark::DoNotOptimize(y.impl());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * int64_t(sizeof(float)) * (broadcast ? 2 : 3));
}
void BM_Add(benchmark::State& s) {
  elementwise(s, [](auto& a, auto& b) { return a + b; });
}
void BM_Mul(benchmark::State& s) {
  elementwise(s, [](auto& a, auto& b) { return a * b; });
}
void BM_Exp(benchmark::State& s) {
  elementwise(s, [](auto& a, auto&) { return tg::exp(a); });
}
BENCHMARK(BM_Add)->ArgsProduct({{1000, 100000, 1000000}, {0, 1}})->ArgNames({"n", "bcast"});
BENCHMARK(BM_Mul)->ArgsProduct({{1000, 100000, 1000000}, {0, 1}})->ArgNames({"n", "bcast"});
BENCHMARK(BM_Exp)->ArgsProduct({{1000, 100000, 1000000}, {0}})->ArgNames({"n", "bcast"});

// Elementwise mul recorded and backpropagated: forward kernel + record + two backward muls.
void BM_MulForwardBackward(benchmark::State& state) {
  const int64_t n = state.range(0);
  tg::Tensor a = tg::randn({n}).set_requires_grad();
  tg::Tensor b = tg::randn({n}).set_requires_grad();
  for (auto _ : state) {
    tg::Tensor y = (a * b).sum();
    y.backward();
    a.zero_grad();
    b.zero_grad();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MulForwardBackward)->Arg(1000)->Arg(100000)->Arg(1000000);

// Reductions: full sum and mean, and mean over the last dim of [n/100, 100].
void BM_Sum(benchmark::State& state) {
  tg::NoGradGuard no_grad;
  tg::Tensor a = tg::randn({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(a.sum().impl());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_Mean(benchmark::State& state) {
  tg::NoGradGuard no_grad;
  tg::Tensor a = tg::randn({state.range(0)});
  for (auto _ : state) benchmark::DoNotOptimize(a.mean().impl());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_MeanDim(benchmark::State& state) {
  tg::NoGradGuard no_grad;
  tg::Tensor a = tg::randn({state.range(0) / 100, 100});
  for (auto _ : state) benchmark::DoNotOptimize(a.mean(-1).impl());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sum)->Arg(1000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_Mean)->Arg(1000)->Arg(100000)->Arg(1000000);
BENCHMARK(BM_MeanDim)->Arg(1000)->Arg(100000)->Arg(1000000);

// Softmax family over the last dim of [rows, cols]; with backward when arg 2 is 1.
template <bool Log>
void softmax_family(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const bool backward = state.range(2) != 0;
  tg::Tensor a = tg::randn({rows, cols}).set_requires_grad(backward);
  for (auto _ : state) {
    tg::Tensor y = Log ? tg::log_softmax(a, 1) : tg::softmax(a, 1);
    if (backward) {
      y.sum().backward();
      a.zero_grad();
    }
    benchmark::DoNotOptimize(y.impl());
  }
  state.SetItemsProcessed(state.iterations() * rows * cols);
}
void BM_Softmax(benchmark::State& s) { softmax_family<false>(s); }
void BM_LogSoftmax(benchmark::State& s) { softmax_family<true>(s); }
BENCHMARK(BM_Softmax)
    ->ArgsProduct({{64}, {10}, {0, 1}})
    ->Args({256, 1000, 0})
    ->Args({256, 1000, 1})
    ->ArgNames({"rows", "cols", "backward"});
BENCHMARK(BM_LogSoftmax)
    ->ArgsProduct({{64}, {10}, {0, 1}})
    ->Args({256, 1000, 0})
    ->Args({256, 1000, 1})
    ->ArgNames({"rows", "cols", "backward"});

// matmul [m, k] @ [k, n] without recording; counters give GFLOP/s against the GEMM's 2mnk.
void BM_Matmul(benchmark::State& state) {
  tg::NoGradGuard no_grad;
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  tg::Tensor a = tg::randn({m, k});
  tg::Tensor b = tg::randn({k, n});
  for (auto _ : state) benchmark::DoNotOptimize(tg::matmul(a, b).impl());
  state.counters["GFLOP/s"] =
      benchmark::Counter(double(2 * m * n * k) * double(state.iterations()),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Matmul)
    ->Args({64, 784, 128})
    ->Args({64, 128, 10})
    ->Args({256, 784, 1024})
    ->Args({256, 1024, 1024})
    ->Args({256, 1024, 10})
    ->ArgNames({"m", "k", "n"});

// tg::linear (fused GEMM + bias) forward and backward at the MLP shapes, 1 BLAS thread.
void BM_LinearForwardBackward(benchmark::State& state) {
  const int64_t batch = state.range(0), in = state.range(1), out = state.range(2);
  tg::Tensor x = tg::randn({batch, in});
  tg::Tensor w = tg::randn({out, in}).set_requires_grad();
  tg::Tensor b = tg::randn({out}).set_requires_grad();
  for (auto _ : state) {
    tg::linear(x, w, b).sum().backward();
    w.zero_grad();
    b.zero_grad();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(double(4 * batch * in * out) * double(state.iterations()),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_LinearForwardBackward)
    ->Args({64, 784, 128})
    ->Args({64, 784, 10})
    ->Args({256, 1024, 1024})
    ->ArgNames({"batch", "in", "out"});

}  // namespace

int main(int argc, char** argv) {
  tg::set_num_threads(1);  // one BLAS thread: kernels measured without threading noise
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
