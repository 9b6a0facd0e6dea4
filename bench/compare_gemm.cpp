// The GEMM-only floor: the BLAS products of one training step, each timed alone the fastest way
// OpenBLAS allows, and the per-product minima summed.
//
// What the floor counts. Per Linear layer with input X [B, in] and weight W [out, in]: forward
// Y = X Wᵀ, backward dW = dYᵀ X and, for every layer but the first (the data needs no
// gradient), dX = dY W. Nothing else: bias, activations, loss, optimizer, and the cost of
// putting the bias or the gradient so far into C before a beta = 1 product are left out.
// Every product C[m, n] = A[m, k] B[k, n] is timed in each of these candidate forms, and the
// fastest form's median counts:
//   - sgemm in any of 8 layouts: each of A, B and C stored as itself or transposed (C stored
//     transposed is computed as Cᵀ = Bᵀ Aᵀ); every operand is held in both orientations,
//     chosen per product, as if the framework had stored each tensor the way that product
//     likes best (so two products of one step may assume different storage of one tensor);
//   - sgemv when C is one column (n = 1: A as the matrix) or one row (m = 1: B), the matrix
//     stored either way;
//   - sger when the inner dimension is 1 (k = 1), C stored either way;
//   - beta = 0, or beta = 1 into a C that already holds the bias (forward) or the gradient so
//     far (backward), which skips OpenBLAS's pass that zeroes or scales C (sger is beta = 1);
//   - one OpenBLAS thread, or two when the process is given 2 threads (--threads 2).
// Each product is timed alone, over and over, with its operands warm in cache. A sample is the
// mean of a block of calls lasting at least ~10 µs, so that reading the clock does not weigh
// on the smallest products. Every candidate is screened with a few samples (~5 ms); the three
// best of each product are then timed with --steps samples each (at most ~150 ms), in three
// interleaved rounds, and the best median is the product's figure. median_us is the sum of those
// medians; p10/p90/mean sum the same candidates' percentiles. Before timing, every candidate is
// checked once against a double-precision reference (beta = 0 over garbage in C, and beta = 1 over
// a known C), so that a wrong layout cannot look fast; "check" is the worst error relative to its
// tolerance. Workload "fashion" (784-256-128-10, b128) also reports epoch_us: one epoch of the
// 60,000 training images, 468 steps of 128 and one of 96, each batch size's floor timed as above.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "harness.hpp"

namespace {

enum class Kind { gemm, gemv_a, gemv_b, ger };

/// One way to make a product: routine, operand storage, beta and thread count.
struct Candidate {
  Kind kind;
  bool a_transposed;  // A stored as [k, m]
  bool b_transposed;  // B stored as [n, k]
  bool c_transposed;  // C stored as [n, m]
  float beta;
  int threads;

  std::string name() const {
    static const char* routine[] = {"sgemm", "sgemv(A)", "sgemv(B)", "sger"};
    std::string text = routine[int(kind)];
    if (kind == Kind::gemm || kind == Kind::ger) text += c_transposed ? " C^T" : " C";
    if (kind == Kind::gemm || kind == Kind::gemv_a) text += a_transposed ? " A^T" : " A";
    if (kind == Kind::gemm || kind == Kind::gemv_b) text += b_transposed ? " B^T" : " B";
    text += beta == 0.0f ? " beta=0" : " beta=1";
    return text + " threads=" + std::to_string(threads);
  }
};

/// One product of the step, C[m, n] = A[m, k] B[k, n], with every operand in both orientations.
struct Product {
  std::string what;
  int m, n, k;
  std::vector<float> a, a_t, b, b_t, c;  // a [m, k], a_t [k, m], b [k, n], b_t [n, k]; c m*n
};

std::vector<float> transposed(const std::vector<float>& x, int rows, int cols) {
  std::vector<float> t(x.size());
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j)
      t[size_t(j) * size_t(rows) + size_t(i)] = x[size_t(i) * size_t(cols) + size_t(j)];
  return t;
}

CBLAS_TRANSPOSE flag(bool transpose) { return transpose ? CblasTrans : CblasNoTrans; }

void call(const Candidate& v, Product& p) {
  const int m = p.m, n = p.n, k = p.k;
  const float* a = v.a_transposed ? p.a_t.data() : p.a.data();
  const float* b = v.b_transposed ? p.b_t.data() : p.b.data();
  const int lda = v.a_transposed ? m : k, ldb = v.b_transposed ? k : n;
  float* c = p.c.data();
  switch (v.kind) {
    case Kind::gemm:
      if (!v.c_transposed)
        cblas_sgemm(CblasRowMajor, flag(v.a_transposed), flag(v.b_transposed), m, n, k, 1.0f, a,
                    lda, b, ldb, v.beta, c, n);
      else  // Cᵀ [n, m] = Bᵀ [n, k] Aᵀ [k, m]: an operand stored as itself is read transposed
        cblas_sgemm(CblasRowMajor, flag(!v.b_transposed), flag(!v.a_transposed), n, m, k, 1.0f, b,
                    ldb, a, lda, v.beta, c, m);
      break;
    case Kind::gemv_a:  // n == 1: c[m] = A b
      cblas_sgemv(CblasRowMajor, flag(v.a_transposed), v.a_transposed ? k : m,
                  v.a_transposed ? m : k, 1.0f, a, lda, p.b.data(), 1, v.beta, c, 1);
      break;
    case Kind::gemv_b:  // m == 1: c[n] = Bᵀ a
      cblas_sgemv(CblasRowMajor, flag(!v.b_transposed), v.b_transposed ? n : k,
                  v.b_transposed ? k : n, 1.0f, b, ldb, p.a.data(), 1, v.beta, c, 1);
      break;
    case Kind::ger:  // k == 1: C += a bᵀ
      if (!v.c_transposed)
        cblas_sger(CblasRowMajor, m, n, 1.0f, p.a.data(), 1, p.b.data(), 1, c, n);
      else
        cblas_sger(CblasRowMajor, n, m, 1.0f, p.b.data(), 1, p.a.data(), 1, c, m);
      break;
  }
}

std::vector<Candidate> candidates(const Product& p, int max_threads) {
  std::vector<Candidate> all;
  for (int threads = 1; threads <= max_threads; ++threads)
    for (float beta : {0.0f, 1.0f}) {
      for (int layout = 0; layout < 8; ++layout)
        all.push_back(
            {Kind::gemm, (layout & 1) != 0, (layout & 2) != 0, (layout & 4) != 0, beta, threads});
      for (bool transposed : {false, true}) {
        if (p.n == 1) all.push_back({Kind::gemv_a, transposed, false, false, beta, threads});
        if (p.m == 1) all.push_back({Kind::gemv_b, false, transposed, false, beta, threads});
        if (p.k == 1 && beta == 1.0f)
          all.push_back({Kind::ger, false, false, transposed, beta, threads});
      }
    }
  return all;
}

// The entries of a product that the start-up check compares: up to 48 rows by 48 columns,
// evenly spread and including the first and last, each with its double-precision value and
// Σ|a b| (for the tolerance).
struct Reference {
  std::vector<size_t> rows, cols;
  std::vector<double> value, magnitude;  // rows.size() x cols.size()
};

std::vector<size_t> spread(size_t count) {
  const size_t chosen = std::min<size_t>(count, 48);
  std::vector<size_t> at;
  for (size_t i = 0; i < chosen; ++i)
    at.push_back(chosen == 1 ? 0 : i * (count - 1) / (chosen - 1));
  return at;
}

Reference reference(const Product& p) {
  Reference r{spread(size_t(p.m)), spread(size_t(p.n)), {}, {}};
  const size_t n = size_t(p.n), k = size_t(p.k);
  for (size_t i : r.rows)
    for (size_t j : r.cols) {
      double sum = 0, magnitude = 0;
      for (size_t l = 0; l < k; ++l) {
        const double term = double(p.a[i * k + l]) * double(p.b[l * n + j]);
        sum += term;
        magnitude += std::abs(term);
      }
      r.value.push_back(sum);
      r.magnitude.push_back(magnitude);
    }
  return r;
}

// Runs `v` once over a C of random values and returns the worst |error| / tolerance against
// the reference; the tolerance, 1e-6 k Σ|a b| + 1e-6 |C before|, is far above float rounding
// and far below what a wrong layout, a skipped part of C or a wrong beta gives.
double check(const Candidate& v, Product& p, const Reference& r, std::mt19937& generator) {
  const size_t m = size_t(p.m), n = size_t(p.n), k = size_t(p.k);
  std::uniform_real_distribution<float> garbage(-100.0f, 100.0f);
  std::vector<float> before(m * n);  // row-major [m, n] whatever C's storage
  for (float& x : before) x = garbage(generator);
  p.c.resize(m * n);
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < n; ++j) p.c[v.c_transposed ? j * m + i : i * n + j] = before[i * n + j];
  openblas_set_num_threads(v.threads);
  call(v, p);
  double worst = 0;
  size_t e = 0;
  for (size_t i : r.rows)
    for (size_t j : r.cols) {
      const double start = v.beta == 0.0f ? 0.0 : double(before[i * n + j]);
      const double got = double(p.c[v.c_transposed ? j * m + i : i * n + j]);
      const double error = std::abs(got - (start + r.value[e]));
      const double tolerance = 1e-6 * double(k) * r.magnitude[e] + 1e-6 * std::abs(start) + 1e-30;
      worst = std::max(worst, error / tolerance);
      ++e;
    }
  return worst;
}

using Clock = std::chrono::steady_clock;

// `samples` block means of `block` calls each, in microseconds per call, after one untimed call.
void sample(const Candidate& v, Product& p, int64_t block, int64_t samples,
            std::vector<double>& out) {
  openblas_set_num_threads(v.threads);
  call(v, p);
  for (int64_t s = 0; s < samples; ++s) {
    auto start = Clock::now();
    for (int64_t i = 0; i < block; ++i) call(v, p);
    out.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                  double(block));
  }
}

/// The product's fastest candidate and its timing.
struct Best {
  Candidate candidate;
  bench::Timing timing;
};

Best fastest(Product& p, const std::vector<Candidate>& all, const bench::Args& args) {
  // Calls per sample: enough for ~10 µs, measured on the first candidate after the warmup.
  openblas_set_num_threads(all.front().threads);
  for (int64_t i = 0; i < std::max<int64_t>(args.warmup, 1); ++i) call(all.front(), p);
  auto start = Clock::now();
  call(all.front(), p);
  const double once = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  const int64_t block =
      std::clamp<int64_t>(int64_t(std::ceil(10.0 / std::max(once, 1e-3))), 1, 1000);
  // Samples, within time budgets so that the largest workloads finish in seconds: screening
  // gives each candidate max(3, steps/20) samples or ~5 ms (at least 2); each finalist gets
  // --steps samples or ~150 ms (at least 5).
  const double sample_us = std::max(once, 1e-3) * double(block);
  auto within = [&](int64_t wanted, double budget_us, int64_t least) {
    return std::max<int64_t>(least, std::min<int64_t>(wanted, int64_t(budget_us / sample_us)));
  };
  const int64_t screen_samples = within(std::max<int64_t>(3, args.steps / 20), 5e3, 2);
  const int64_t final_samples = within(args.steps, 150e3, 5);

  std::vector<std::pair<double, size_t>> screened;  // (median, candidate index)
  for (size_t c = 0; c < all.size(); ++c) {
    std::vector<double> micros;
    sample(all[c], p, block, screen_samples, micros);
    screened.push_back({bench::summarise(micros).median_us, c});
  }
  std::sort(screened.begin(), screened.end());
  const size_t finalists = std::min<size_t>(3, screened.size());
  const int64_t rounds = 3;
  std::vector<std::vector<double>> micros(finalists);
  for (int64_t r = 0; r < rounds; ++r)
    for (size_t f = 0; f < finalists; ++f)
      sample(all[screened[f].second], p, block,
             final_samples / rounds + (r < final_samples % rounds), micros[f]);
  Best best{all[screened[0].second], bench::summarise(micros[0])};
  for (size_t f = 1; f < finalists; ++f) {
    bench::Timing timing = bench::summarise(micros[f]);
    if (timing.median_us < best.timing.median_us) best = {all[screened[f].second], timing};
  }
  return best;
}

std::vector<Product> step_products(const bench::Workload& w, int batch, std::mt19937& generator) {
  std::normal_distribution<float> normal(0.0f, 0.1f);
  auto product = [&](std::string what, int m, int n, int k) {
    Product p{std::move(what), m, n, k, {}, {}, {}, {}, {}};
    p.a.resize(size_t(m) * size_t(k));
    p.b.resize(size_t(k) * size_t(n));
    for (float& x : p.a) x = normal(generator);
    for (float& x : p.b) x = normal(generator);
    p.a_t = transposed(p.a, m, k);
    p.b_t = transposed(p.b, k, n);
    p.c.assign(size_t(m) * size_t(n), 0.0f);
    return p;
  };
  std::vector<Product> products;
  for (size_t i = 0; i + 1 < w.layers.size(); ++i) {
    const int in = int(w.layers[i]), out = int(w.layers[i + 1]);
    const std::string layer = "layer " + std::to_string(i + 1) + " ";
    products.push_back(product(layer + "Y = X W^T", batch, out, in));
    products.push_back(product(layer + "dW = dY^T X", out, in, batch));
    if (i > 0) products.push_back(product(layer + "dX = dY W", batch, in, out));
  }
  return products;
}

/// The floor of one step at `batch`, with its per-product detail appended to `detail` as JSON.
bench::Timing floor_of_step(const bench::Workload& w, int batch, const bench::Args& args,
                            std::mt19937& generator, double& worst_check, std::string& detail) {
  std::vector<Product> products = step_products(w, batch, generator);
  for (Product& p : products) {
    const Reference expected = reference(p);
    for (const Candidate& v : candidates(p, args.threads)) {
      const double ratio = check(v, p, expected, generator);
      worst_check = std::max(worst_check, ratio);
      if (!(ratio <= 1.0)) {
        std::fprintf(stderr,
                     "compare_gemm: %s [%d x %d x %d] by %s is wrong (error %.3g x tolerance)\n",
                     p.what.c_str(), p.m, p.n, p.k, v.name().c_str(), ratio);
        std::exit(1);
      }
    }
  }
  bench::Timing sum;
  for (Product& p : products) {
    Best best = fastest(p, candidates(p, args.threads), args);
    sum.median_us += best.timing.median_us;
    sum.p10_us += best.timing.p10_us;
    sum.p90_us += best.timing.p90_us;
    sum.mean_us += best.timing.mean_us;
    char line[256];
    std::snprintf(line, sizeof line,
                  "%s{\"batch\": %d, \"what\": \"%s\", \"m\": %d, \"n\": %d, \"k\": %d, "
                  "\"best\": \"%s\", \"median_us\": %.3f}",
                  detail.empty() ? "" : ", ", batch, p.what.c_str(), p.m, p.n, p.k,
                  best.candidate.name().c_str(), best.timing.median_us);
    detail += line;
  }
  return sum;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Args args = bench::parse_args(argc, argv);
  const bench::Workload& w = bench::find_workload(args.workload);
  if (w.layers.empty()) {
    std::fprintf(stderr, "workload %s has no GEMMs\n", w.name.c_str());
    return 2;
  }
  std::mt19937 generator(0);
  double worst_check = 0;
  std::string detail;
  bench::Timing step = floor_of_step(w, int(w.batch), args, generator, worst_check, detail);
  std::string extra;
  if (w.name == "fashion") {
    // 60,000 images in batches of 128: 468 full batches and a last one of 96.
    bench::Timing last = floor_of_step(w, 96, args, generator, worst_check, detail);
    char epoch[64];
    std::snprintf(epoch, sizeof epoch, ", \"epoch_us\": %.1f",
                  468.0 * step.median_us + last.median_us);
    extra += epoch;
  }
  extra += ", \"products\": [" + detail + "]";
  openblas_set_num_threads(args.threads);
  bench::print_result("gemm", args, step, worst_check, extra);
  return 0;
}
