// Threads: set_num_threads governs BLAS and the kernels' pool alike; parallel_for's split; and
// elementwise ops, reductions over dims and relu's backward computing the same bits on one
// thread and on two.
#include "parallel.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <set>
#include <tapegrad/autograd.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "blas.hpp"
#include "support/testing.hpp"

namespace {

// Restores the thread count a test case found.
class ThreadCountGuard {
 public:
  ThreadCountGuard() : saved_(tg::get_num_threads()) {}
  ~ThreadCountGuard() { tg::set_num_threads(saved_); }
  ThreadCountGuard(const ThreadCountGuard&) = delete;
  ThreadCountGuard& operator=(const ThreadCountGuard&) = delete;

 private:
  int saved_;
};

// The ranges parallel_for hands out for `count` and `grain`, sorted, with the threads that ran
// them.
struct Split {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::set<std::thread::id> threads;
};

Split split_of(int64_t count, int64_t grain) {
  Split split;
  std::mutex mutex;
  tg::detail::parallel_for(count, grain, [&](int64_t begin, int64_t end) {
    const std::lock_guard<std::mutex> lock(mutex);
    split.ranges.emplace_back(begin, end);
    split.threads.insert(std::this_thread::get_id());
  });
  std::sort(split.ranges.begin(), split.ranges.end());
  return split;
}

bool covers(const Split& split, int64_t count) {
  int64_t next = 0;
  for (const auto& [begin, end] : split.ranges) {
    if (begin != next || end <= begin) return false;
    next = end;
  }
  return next == count;
}

bool same_bits(const tg::Tensor& a, const tg::Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to_vector();
  const std::vector<double> y = b.to_vector();
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0;
}

// Runs `op` with one thread and with two; the results must agree bit for bit.
template <class Op>
void check_same_on_one_and_two_threads(Op op) {
  const ThreadCountGuard guard;
  tg::set_num_threads(1);
  const tg::Tensor one = op();
  tg::set_num_threads(2);
  const tg::Tensor two = op();
  CHECK(same_bits(one, two));
}

// 3·2^15 + 5: above every kernel's size for splitting, and not a whole number of chunks.
constexpr int64_t kLarge = 3 * (int64_t{1} << 15) + 5;

}  // namespace

TEST_CASE("set_num_threads sets the count that get_num_threads reports, for BLAS and kernels") {
  const ThreadCountGuard guard;
  tg::set_num_threads(2);
  CHECK(tg::get_num_threads() == 2);
  CHECK(tg::detail::blas_threads() == 2);
  // The kernels use the same count only where OpenBLAS runs on OpenMP: one pool, never two.
  if (tg::detail::parallel_threads() != 1) {
    CHECK(tg::detail::blas_runs_on_openmp());
    CHECK(tg::detail::parallel_threads() == 2);
  } else {
    MESSAGE("kernels run on one thread here (OpenBLAS is not its OpenMP build, or no OpenMP)");
  }
  tg::set_num_threads(1);
  CHECK(tg::get_num_threads() == 1);
  CHECK(tg::detail::parallel_threads() == 1);
  SUBCASE("a count below 1 throws and changes nothing") {
    tg::set_num_threads(2);
    TG_CHECK_ERROR(tg::set_num_threads(0), "set_num_threads", ">= 1", "got 0");
    TG_CHECK_ERROR(tg::set_num_threads(-3), "set_num_threads", "got -3");
    CHECK(tg::get_num_threads() == 2);
    CHECK(tg::detail::blas_threads() == 2);
  }
}

TEST_CASE(
    "parallel_for covers every index below count once, in whole 64-element chunks when it splits") {
  const ThreadCountGuard guard;
  tg::set_num_threads(2);
  constexpr int64_t kGrain = 1000;
  SUBCASE("nothing to do: no call") { CHECK(split_of(0, kGrain).ranges.empty()); }
  SUBCASE("below twice the grain: one range on the calling thread") {
    const Split split = split_of(2 * kGrain - 1, kGrain);
    REQUIRE(split.ranges.size() == 1);
    CHECK(covers(split, 2 * kGrain - 1));
    CHECK(split.threads == std::set<std::thread::id>{std::this_thread::get_id()});
  }
  SUBCASE("a large count") {
    const Split split = split_of(kLarge, kGrain);
    CHECK(covers(split, kLarge));
    if (tg::detail::parallel_threads() == 2) {
      // (3·2^15 + 5) / 2 = 49,154.5, rounded up to a multiple of 64: 769 · 64 = 49,216 for the
      // first thread, the other 49,093 for the second.
      REQUIRE(split.ranges.size() == 2);
      CHECK(split.ranges[0] == std::pair<int64_t, int64_t>{0, 49216});
      CHECK(split.ranges[1] == std::pair<int64_t, int64_t>{49216, kLarge});
      CHECK(split.threads.size() == 2);
    }
  }
  SUBCASE("one thread: one range whatever the count") {
    tg::set_num_threads(1);
    const Split split = split_of(kLarge, kGrain);
    REQUIRE(split.ranges.size() == 1);
    CHECK(covers(split, kLarge));
  }
}

TEST_CASE("elementwise ops give the same bits on one thread and on two") {
  tg::manual_seed(7);
  for (tg::DType dtype : {tg::f32, tg::f64}) {
    const tg::Tensor a = tg::randn({kLarge}, {.dtype = dtype});
    const tg::Tensor b = tg::randn({kLarge}, {.dtype = dtype});
    const tg::Tensor rows = tg::randn({kLarge / 5, 5}, {.dtype = dtype});
    const tg::Tensor row = tg::randn({5}, {.dtype = dtype});
    const tg::Tensor column = tg::randn({kLarge / 5, 1}, {.dtype = dtype});
    SUBCASE("same shapes") {
      check_same_on_one_and_two_threads([&] { return a * b + a; });
      check_same_on_one_and_two_threads([&] { return a / b; });
    }
    SUBCASE("a scalar on either side") {
      check_same_on_one_and_two_threads([&] { return a * 3.0; });
      check_same_on_one_and_two_threads([&] { return 2.0 - a; });
    }
    SUBCASE("broadcasting a row and a column") {
      check_same_on_one_and_two_threads([&] { return rows + row; });
      check_same_on_one_and_two_threads([&] { return rows * column; });
    }
    SUBCASE("unary functions") {
      check_same_on_one_and_two_threads([&] { return tg::exp(a); });
      check_same_on_one_and_two_threads([&] { return tg::tanh(a); });
      check_same_on_one_and_two_threads([&] { return tg::relu(a); });
    }
    SUBCASE("relu's backward") {
      check_same_on_one_and_two_threads([&] {
        const tg::Tensor x = a.detach().set_requires_grad();
        (tg::relu(x) * b).sum().backward();
        return x.grad();
      });
    }
    SUBCASE("sums and means along a dim, over outer blocks and over columns") {
      check_same_on_one_and_two_threads([&] { return tg::sum(rows, 0); });
      check_same_on_one_and_two_threads([&] { return tg::sum(rows, 1); });
      check_same_on_one_and_two_threads([&] { return tg::mean(rows.reshape({5, kLarge / 5}), 0); });
    }
  }
}

TEST_CASE("split ops give every element its hand-computed value") {
  const ThreadCountGuard guard;
  tg::set_num_threads(2);
  // x = 0, 1, 2, ..., 99,999: large enough to split, every value below exact in f64.
  constexpr int64_t kCount = 100000;
  const tg::Tensor x = tg::arange(kCount).to(tg::f64);
  SUBCASE("x·0.5 + 1 is i/2 + 1") {
    const std::vector<double> y = (x * 0.5 + 1.0).to_vector();
    int64_t wrong = 0;
    for (int64_t i = 0; i < kCount; ++i)
      if (y[static_cast<size_t>(i)] != static_cast<double>(i) / 2 + 1) ++wrong;
    CHECK(wrong == 0);
  }
  SUBCASE("the rows of five consecutive integers 5r..5r+4 sum to 25r + 10") {
    const std::vector<double> sums = tg::sum(x.reshape({kCount / 5, 5}), 1).to_vector();
    int64_t wrong = 0;
    for (int64_t r = 0; r < kCount / 5; ++r)
      if (sums[static_cast<size_t>(r)] != 25.0 * static_cast<double>(r) + 10) ++wrong;
    CHECK(wrong == 0);
  }
  SUBCASE("column c of the 5 × 20,000 layout sums c, c + 20,000, ..., c + 80,000 to 5c + 200,000") {
    const std::vector<double> sums = tg::sum(x.reshape({5, kCount / 5}), 0).to_vector();
    int64_t wrong = 0;
    for (int64_t c = 0; c < kCount / 5; ++c)
      if (sums[static_cast<size_t>(c)] != 5.0 * static_cast<double>(c) + 200000) ++wrong;
    CHECK(wrong == 0);
  }
}
