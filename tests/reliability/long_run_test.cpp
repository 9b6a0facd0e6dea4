// Long runs: 100,000 training steps (nn + optim) and an eval loop without NoGradGuard keep
// live allocations and resident memory flat.
//
// Three figures: live C++ allocations (operator new/delete replaced in this executable, as in
// tests/autograd/memory_test.cpp, which proves the same for bare autograd; this adds Module,
// the losses, clip_grad_norm_ and the optimizers' state), bytes in use in the C heap
// (mallinfo2: everything malloc'd, the large tensor buffers included), and the resident set
// (VmRSS), which is what a user watching a long job sees. Under AddressSanitizer the replacement
// would take over ASan's own operator new, losing its new/delete mismatch checks, and ASan's
// quarantine makes RSS meaningless, so sanitizer builds run a shorter loop that checks only that
// nothing breaks.
#include <doctest/doctest.h>
#include <malloc.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "support/sanitizer.hpp"
#include "tapegrad.hpp"

namespace {
std::atomic<int64_t> live_allocations{0};
}

#if !TG_UNDER_SANITIZER
void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void* operator new(std::size_t size, std::align_val_t align) {
  const auto alignment = static_cast<std::size_t>(align);
  void* p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (p == nullptr) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return ::operator new(size, align);
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { ::operator delete(p); }
#endif

namespace {

#if TG_UNDER_SANITIZER
constexpr int kSteps = 5'000;
#else
constexpr int kSteps = 100'000;
#endif
constexpr int kWarmUp = 1'000;

// VmRSS from /proc/self/status, in KiB.
int64_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  return -1;
}

struct Snapshot {
  int64_t live = 0;
  int64_t heap_bytes = 0;
  int64_t rss_kib = 0;
};
Snapshot snapshot() {
  return {live_allocations.load(), static_cast<int64_t>(mallinfo2().uordblks), resident_kib()};
}

// How much each figure may grow between the end of warm-up and the end of the run: no live
// object at all; one leaked record per step would add 100,000 of them and several MB, so the
// byte margins only absorb allocator noise (malloc's arenas settling, a page or two of stdio).
constexpr int64_t kLiveSlack = 0;
constexpr int64_t kHeapSlackBytes = 64 * 1024;
constexpr int64_t kRssSlackKib = 2048;

void check_flat(const char* what, Snapshot warm, Snapshot end) {
  std::printf(
      "%s, step %d -> %d: live allocations %lld -> %lld, heap in use %lld -> %lld "
      "bytes, VmRSS %lld -> %lld KiB\n",
      what, kWarmUp, kSteps, static_cast<long long>(warm.live), static_cast<long long>(end.live),
      static_cast<long long>(warm.heap_bytes), static_cast<long long>(end.heap_bytes),
      static_cast<long long>(warm.rss_kib), static_cast<long long>(end.rss_kib));
  if (TG_UNDER_SANITIZER) return;
  CHECK(end.live - warm.live <= kLiveSlack);
  CHECK(end.heap_bytes - warm.heap_bytes <= kHeapSlackBytes);
  CHECK(end.rss_kib - warm.rss_kib <= kRssSlackKib);
}

struct Fixture {
  tg::nn::Sequential model{tg::nn::Linear(4, 32), tg::nn::ReLU(), tg::nn::Linear(32, 1)};
  tg::Tensor x, y;
  Fixture() {
    tg::manual_seed(7);
    x = tg::randn({32, 4});
    y = (x * x).sum(1, true) - 1.0;  // something an MLP can fit
  }
};

}  // namespace

TEST_CASE("100,000 training steps with Adam keep memory flat") {
  tg::set_num_threads(1);
  Fixture f;
  tg::optim::Adam opt(f.model.parameters(), {.lr = 1e-3});
  Snapshot warm;
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < kSteps; ++step) {
    if (step == kWarmUp) warm = snapshot();
    opt.zero_grad();
    tg::Tensor loss = tg::F::mse_loss(f.model(f.x), f.y);
    loss.backward();
    opt.step();
    if (step == 0) first_loss = loss.item();
    if (step == kSteps - 1) last_loss = loss.item();
  }
  CHECK(last_loss < first_loss);
  check_flat("training", warm, snapshot());
}

TEST_CASE("100,000 steps of SGD with momentum, clip_grad_norm_ and a fresh batch each step") {
  tg::set_num_threads(1);
  Fixture f;
  tg::optim::SGD opt(f.model.parameters(), {.lr = 1e-2, .momentum = 0.9});
  Snapshot warm;
  for (int step = 0; step < kSteps; ++step) {
    if (step == kWarmUp) warm = snapshot();
    opt.zero_grad();
    tg::Tensor batch = f.x * (1.0 + 1e-3 * static_cast<double>(step % 7));
    tg::Tensor loss = tg::F::mse_loss(f.model(batch), f.y);
    loss.backward();
    tg::nn::clip_grad_norm_(f.model.parameters(), 1.0);
    opt.step();
  }
  check_flat("training (SGD, clipping)", warm, snapshot());
}

TEST_CASE("an evaluation loop that forgot NoGradGuard frees each graph it builds") {
  tg::set_num_threads(1);
  Fixture f;
  f.model.eval();
  Snapshot warm;
  double checksum = 0;
  for (int step = 0; step < kSteps; ++step) {
    if (step == kWarmUp) warm = snapshot();
    tg::Tensor prediction = f.model(f.x);  // records a graph: the parameters require grad
    if (step == 0) REQUIRE(prediction.requires_grad());
    checksum += tg::F::mse_loss(prediction, f.y).item();
  }
  CHECK(std::isfinite(checksum));
  check_flat("evaluation without NoGradGuard", warm, snapshot());
}

TEST_CASE("the figures would see a leak: graphs kept alive grow all three") {
  if (TG_UNDER_SANITIZER) return;
  Fixture f;
  const Snapshot before = snapshot();
  std::vector<tg::Tensor> kept;  // what a loop doing `total = total + loss` would hold
  for (int step = 0; step < 2'000; ++step) kept.push_back(tg::F::mse_loss(f.model(f.x), f.y));
  const Snapshot after = snapshot();
  CHECK(after.live - before.live >= 2'000 * 5);
  CHECK(after.heap_bytes - before.heap_bytes >= 2'000 * 32 * 32 * 4);  // a [32, 32] each
}

TEST_CASE("graphs built on worker threads and freed on the main thread keep memory flat") {
  // Each block goes back to the free list of the thread that frees it: here the main thread's,
  // which must stop growing at its bound while every worker thread allocates afresh.
  constexpr int kRounds = 20;
  const int graphs_per_round = kSteps / kRounds;
  Snapshot warm;
  double checksum = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (round == 2) warm = snapshot();
    std::vector<tg::Tensor> losses;
    std::thread worker([&] {
      tg::Tensor a = tg::scalar(0.5, {.dtype = tg::f64, .requires_grad = true});
      for (int i = 0; i < graphs_per_round; ++i) {
        tg::Tensor b = tg::scalar(0.25 * (i % 4), {.dtype = tg::f64});
        losses.push_back(((a + b) * a).pow(2) / 2.0);
      }
    });
    worker.join();
    for (tg::Tensor& loss : losses) checksum += loss.item();
    losses.clear();  // every record, handle and buffer goes back on this thread
  }
  check_flat("graphs freed on another thread", warm, snapshot());
  // Graph i is ((0.5 + 0.25k) * 0.5)² / 2 with k = i mod 4.
  const double by_k[4] = {0.03125, 0.0703125, 0.125, 0.1953125};
  double per_round = 0;
  for (int i = 0; i < graphs_per_round; ++i) per_round += by_k[i % 4];
  CHECK(checksum == doctest::Approx(per_round * kRounds));
}
