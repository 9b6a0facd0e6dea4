// Memory stays flat over long loops: 100,000 training iterations, 100,000 forward passes that
// forgot NoGradGuard, and as many graphs of scalars whose records save their outputs. Proven
// with live-allocation counters, not timings. Its own executable, because it replaces the
// global operator new.
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "support/sanitizer.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd/loss.hpp"

namespace {
std::atomic<long> live_allocations{0};
std::atomic<long> allocation_calls{0};
}  // namespace

// Every C++ allocation in the process goes through these, so their balance is the number of
// live objects: graph records, tensor handles, shape vectors, closures.
void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  allocation_calls.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  const auto align = static_cast<std::size_t>(alignment);
  void* p = std::aligned_alloc(align, (size + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  live_allocations.fetch_add(1, std::memory_order_relaxed);
  allocation_calls.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return operator new(size, alignment);
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
void operator delete(void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::align_val_t) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { operator delete(p); }

namespace {

// Bytes the C allocator has handed out and not taken back: tensor storage included.
long heap_bytes_in_use() { return static_cast<long>(mallinfo2().uordblks); }

// A 2-8-1 MLP on 16 fixed points, trained by hand-written SGD.
struct TinyModel {
  tg::Tensor w1, b1, w2, b2, x, y;
  TinyModel() {
    tg::manual_seed(3);
    const tg::TensorOptions parameter{.dtype = tg::f64, .requires_grad = true};
    w1 = (tg::randn({8, 2}, {.dtype = tg::f64}) * 0.5).detach().set_requires_grad();
    b1 = tg::zeros({8}, parameter);
    w2 = (tg::randn({1, 8}, {.dtype = tg::f64}) * 0.5).detach().set_requires_grad();
    b2 = tg::zeros({1}, parameter);
    x = tg::randn({16, 2}, {.dtype = tg::f64});
    y = tg::gt(x.sum(1, true), tg::scalar(0.0, {.dtype = tg::f64}));
  }
  tg::Tensor forward() const { return tg::linear(tg::relu(tg::linear(x, w1, b1)), w2, b2); }
  double train_step() {
    const tg::Tensor loss = tg::pow(forward() - y, 2.0).mean();
    loss.backward();
    tg::NoGradGuard no_grad;
    for (tg::Tensor* p : {&w1, &b1, &w2, &b2}) {
      p->copy_(*p - 0.05 * p->grad());
      p->zero_grad();
    }
    return loss.item();
  }
};

#if TG_UNDER_ASAN
// AddressSanitizer keeps freed memory in quarantine and has its own allocator, so live counts
// and heap bytes mean nothing there; LeakSanitizer checks for leaks at exit instead.
constexpr int kIterations = 10000;
#else
constexpr int kIterations = 100000;
#endif

}  // namespace

TEST_CASE("live allocations stay flat over 100,000 training iterations") {
  TinyModel model;
  for (int i = 0; i < 1000; ++i) model.train_step();  // warm-up: caches, lazy statics
  const long objects_before = live_allocations.load();
  const long bytes_before = heap_bytes_in_use();
  double loss = 0;
  for (int i = 0; i < kIterations; ++i) loss = model.train_step();
  const long objects_after = live_allocations.load();
  const long bytes_after = heap_bytes_in_use();
  CAPTURE(objects_before);
  CAPTURE(objects_after);
  CAPTURE(bytes_before);
  CAPTURE(bytes_after);
  CHECK(loss < 0.25);  // it did train
#if !TG_UNDER_ASAN
  CHECK(objects_after == objects_before);
  CHECK(bytes_after - bytes_before < 64 * 1024);
#endif
}

TEST_CASE("live allocations stay flat over 100,000 forward passes that forgot NoGradGuard") {
  TinyModel model;
  for (int i = 0; i < 1000; ++i) (void)model.forward().sum().item();
  const long objects_before = live_allocations.load();
  const long bytes_before = heap_bytes_in_use();
  for (int i = 0; i < kIterations; ++i) {
    const tg::Tensor out = model.forward();  // records a graph that nobody walks
    (void)out.sum().item();
  }
  const long objects_after = live_allocations.load();
  const long bytes_after = heap_bytes_in_use();
  CAPTURE(objects_before);
  CAPTURE(objects_after);
  CAPTURE(bytes_after - bytes_before);
#if !TG_UNDER_ASAN
  CHECK(objects_after == objects_before);
  CHECK(bytes_after - bytes_before < 64 * 1024);
#endif
}

TEST_CASE("the counter sees what it should: a kept graph grows it") {
  TinyModel model;
  const long before = live_allocations.load();
  std::vector<tg::Tensor> kept;
  for (int i = 0; i < 100; ++i) kept.push_back(model.forward());
  CHECK(live_allocations.load() - before >= 100 * 5);  // five records per forward at least
}

// Records that save their own output (exp, tanh, sigmoid, sqrt, their in-place forms) hold it
// without its history, so that output and record do not keep each other alive; scalars are
// where a design that kept values inside the tensor's own allocation made exactly that cycle.
TEST_CASE("live allocations stay flat over graphs of scalars whose records save their outputs") {
  const tg::Tensor x = tg::scalar(0.5, {.dtype = tg::f64, .requires_grad = true});
  auto forward = [&] {
    tg::Tensor y = tg::exp(x) + tg::tanh(x) + tg::sigmoid(x) + tg::sqrt(x);
    y.exp_();
    y.tanh_();
    const tg::Tensor view = y.unsqueeze(0);
    return (view * 2.0).sum() + y;  // a graph that nobody walks
  };
  for (int i = 0; i < 1000; ++i) (void)forward().item();
  const long objects_before = live_allocations.load();
  for (int i = 0; i < kIterations; ++i) (void)forward().item();
  const long objects_after = live_allocations.load();
  CAPTURE(objects_before);
  CAPTURE(objects_after);
#if !TG_UNDER_ASAN
  CHECK(objects_after == objects_before);
#endif
}

// After warm-up a training step allocates nothing: records, handles, shapes and buffers come
// from the per-thread free lists and the large-buffer cache. Each line of the step stands for a
// path that once called operator new on every step: a record with three inputs (linear), the
// fused losses' scratch arrays, a broadcast gradient made contiguous (mean), a backward mask
// (abs), a broadcasting op, buffers of 64 KiB and more, and log_softmax with nll_loss.
// (Sanitizer builds bypass the free lists, so there the step is only run.)
TEST_CASE("a steady training step calls no allocator") {
  tg::manual_seed(5);
  const tg::TensorOptions parameter{.requires_grad = true};
  const tg::Tensor x = tg::randn({64, 300});
  // w1's gradient, 75 KiB, is a new buffer of the large-buffer path on every step.
  const tg::Tensor w1 = (tg::randn({64, 300}) * 0.05).detach().set_requires_grad();
  const tg::Tensor b1 = tg::zeros({64}, parameter);
  const tg::Tensor w2 = (tg::randn({10, 64}) * 0.1).detach().set_requires_grad();
  const tg::Tensor b2 = tg::zeros({10}, parameter);
  const tg::Tensor labels = tg::randint(0, 10, {64});
  const tg::Tensor binary = tg::rand({64, 10});
  auto step = [&] {
    const tg::Tensor h = tg::relu(tg::linear(x, w1, b1));
    const tg::Tensor logits = tg::linear(h, w2, b2);
    const tg::Tensor loss =
        tg::cross_entropy(logits, labels) + tg::nll_loss(tg::log_softmax(logits, 1), labels) +
        tg::binary_cross_entropy_with_logits(logits, binary) + (tg::abs(logits) * 0.01).mean() +
        tg::pow(logits + b2, 2.0).mean() * 0.01;
    loss.backward();
    tg::NoGradGuard no_grad;
    for (const tg::Tensor& p : {w1, b1, w2, b2}) {
      tg::Tensor target = p;
      target.sub_(p.grad() * 0.01);
    }
    for (tg::Tensor p : {w1, b1, w2, b2}) p.zero_grad();
    return loss.item();
  };
  const double first = step();
  for (int i = 0; i < 20; ++i) step();
  const long calls_before = allocation_calls.load();
  double last = 0;
  for (int i = 0; i < 50; ++i) last = step();
  const long calls = allocation_calls.load() - calls_before;
  CAPTURE(calls);
  CHECK(last < first);  // it did train
#if !TG_UNDER_SANITIZER
  CHECK(calls == 0);
#endif
}
