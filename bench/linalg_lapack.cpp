// Google Benchmark: tg::linalg::solve and inv of an n×n f64 matrix against calling LAPACK directly
// (dgesv; dgetrf + dgetri) on the same data, n = 8 … 512, each pair run back to back.
// Run: bench/linalg_lapack [--benchmark_repetitions=5] (compare the CPU times of a pair).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "tapegrad/autograd.hpp"

extern "C" {
void dgesv_(const int* n, const int* nrhs, double* a, const int* lda, int* ipiv, double* b,
            const int* ldb, int* info);
void dgetrf_(const int* m, const int* n, double* a, const int* lda, int* ipiv, int* info);
void dgetri_(const int* n, double* a, const int* lda, const int* ipiv, double* work,
             const int* lwork, int* info);
}

namespace {

// A well-conditioned matrix: U[0, 1) entries plus n on the diagonal.
tg::Tensor test_matrix(int64_t n) {
  tg::manual_seed(static_cast<uint64_t>(n));
  return (tg::rand({n, n}, {.dtype = tg::f64}) + tg::eye(n, {.dtype = tg::f64}) * double(n))
      .detach();
}

// LAPACK's own cost: the copies dgesv needs (it overwrites A and b), then dgesv. Buffers are
// allocated once, outside the loop, which is the best a caller of LAPACK can do.
void BM_LapackSolve(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), one = 1;
  const tg::Tensor a = test_matrix(n), b = tg::rand({n}, {.dtype = tg::f64});
  std::vector<double> work(static_cast<size_t>(n) * n), x(static_cast<size_t>(n));
  std::vector<int> pivots(static_cast<size_t>(n));
  for (auto _ : state) {
    std::copy_n(a.data<double>(), work.size(), work.data());
    std::copy_n(b.data<double>(), x.size(), x.data());
    int info = 0;
    dgesv_(&n, &one, work.data(), &n, pivots.data(), x.data(), &n, &info);
    benchmark::DoNotOptimize(x.data());
  }
}

void BM_TapegradSolve(benchmark::State& state) {
  const int64_t n = state.range(0);
  const tg::Tensor a = test_matrix(n), b = tg::rand({n}, {.dtype = tg::f64});
  for (auto _ : state) {
    tg::Tensor x = tg::linalg::solve(a, b);
    benchmark::DoNotOptimize(x.data<double>());
  }
}

// dgetrf + dgetri with getri's optimal workspace, queried once outside the loop.
void BM_LapackInv(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const tg::Tensor a = test_matrix(n);
  std::vector<double> inverse(static_cast<size_t>(n) * n);
  std::vector<int> pivots(static_cast<size_t>(n));
  int query = -1, info = 0;
  double size = 0;
  dgetri_(&n, inverse.data(), &n, pivots.data(), &size, &query, &info);
  const int lwork = std::max(n, static_cast<int>(size));
  std::vector<double> work(static_cast<size_t>(lwork));
  for (auto _ : state) {
    std::copy_n(a.data<double>(), inverse.size(), inverse.data());
    dgetrf_(&n, &n, inverse.data(), &n, pivots.data(), &info);
    dgetri_(&n, inverse.data(), &n, pivots.data(), work.data(), &lwork, &info);
    benchmark::DoNotOptimize(inverse.data());
  }
}

void BM_TapegradInv(benchmark::State& state) {
  const tg::Tensor a = test_matrix(state.range(0));
  for (auto _ : state) {
    tg::Tensor inverse = tg::linalg::inv(a);
    benchmark::DoNotOptimize(inverse.data<double>());
  }
}

}  // namespace

// Registered by size, LAPACK and tapegrad back to back, so a change in the machine's load between
// two rows of a pair (other work on a shared machine) is as small as it can be.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int64_t n = 8; n <= 512; n *= 2) {
    benchmark::RegisterBenchmark("BM_LapackSolve", BM_LapackSolve)->Arg(n)->ArgName("n");
    benchmark::RegisterBenchmark("BM_TapegradSolve", BM_TapegradSolve)->Arg(n)->ArgName("n");
    benchmark::RegisterBenchmark("BM_LapackInv", BM_LapackInv)->Arg(n)->ArgName("n");
    benchmark::RegisterBenchmark("BM_TapegradInv", BM_TapegradInv)->Arg(n)->ArgName("n");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
