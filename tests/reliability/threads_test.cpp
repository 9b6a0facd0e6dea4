// Threads: grad mode and the tape are per thread, so separate models train concurrently.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstring>
#include <thread>
#include <vector>

#include "tapegrad.hpp"

namespace {

// A small MLP kept as plain tensors, with data, all made up front on the calling thread: the
// global generator behind randn is shared state, so threads must not draw from it at once.
struct Problem {
  std::vector<tg::Tensor> params;  // W1 [16,8], b1 [16], W2 [1,16], b2 [1]
  tg::Tensor x, y;                 // [64, 8], [64, 1]
};

Problem make_problem(uint64_t seed) {
  tg::manual_seed(seed);
  Problem p;
  p.params = {tg::randn({16, 8}) * 0.3, tg::randn({16}) * 0.1, tg::randn({1, 16}) * 0.3,
              tg::randn({1}) * 0.1};
  for (tg::Tensor& t : p.params) t = t.detach().set_requires_grad();
  p.x = tg::randn({64, 8});
  p.y = tg::randn({64, 1});
  return p;
}

// Plain SGD by hand; returns the loss history so that both runs can be compared bit for bit.
std::vector<float> train(Problem& p, int steps) {
  std::vector<float> losses;
  for (int step = 0; step < steps; ++step) {
    tg::Tensor hidden = tg::relu(tg::linear(p.x, p.params[0], p.params[1]));
    tg::Tensor out = tg::linear(hidden, p.params[2], p.params[3]);
    tg::Tensor loss = ((out - p.y) * (out - p.y)).mean();
    losses.push_back(static_cast<float>(loss.item()));
    loss.backward();
    tg::NoGradGuard no_grad;
    for (tg::Tensor& param : p.params) {
      param.copy_(param - param.grad() * 0.05);
      param.zero_grad();
    }
  }
  return losses;
}

std::vector<float> values(const std::vector<tg::Tensor>& params) {
  std::vector<float> all;
  for (const tg::Tensor& t : params)
    all.insert(all.end(), t.data<float>(), t.data<float>() + t.numel());
  return all;
}

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("two threads training two models at once match training them one after the other") {
  tg::set_num_threads(1);  // BLAS's own pool is not what is under test here
  constexpr int kSteps = 200;

  Problem serial_a = make_problem(1), serial_b = make_problem(2);
  const std::vector<float> losses_a = train(serial_a, kSteps);
  const std::vector<float> losses_b = train(serial_b, kSteps);

  Problem parallel_a = make_problem(1), parallel_b = make_problem(2);
  std::vector<float> threaded_losses_a, threaded_losses_b;
  std::thread thread_a([&] { threaded_losses_a = train(parallel_a, kSteps); });
  std::thread thread_b([&] { threaded_losses_b = train(parallel_b, kSteps); });
  thread_a.join();
  thread_b.join();

  CHECK(losses_a.back() < losses_a.front());  // it did train
  CHECK(bit_equal(losses_a, threaded_losses_a));
  CHECK(bit_equal(losses_b, threaded_losses_b));
  CHECK(bit_equal(values(serial_a.params), values(parallel_a.params)));
  CHECK(bit_equal(values(serial_b.params), values(parallel_b.params)));
}

TEST_CASE("two nn models with their own Adam train at once exactly as one after the other") {
  tg::set_num_threads(1);
  constexpr int kSteps = 200;
  auto make = [](uint64_t seed) {
    tg::manual_seed(seed);
    return tg::nn::Sequential(tg::nn::Linear(8, 16), tg::nn::Tanh(), tg::nn::Linear(16, 1));
  };
  tg::manual_seed(9);
  const tg::Tensor x = tg::randn({32, 8});
  const tg::Tensor y = tg::randn({32, 1});
  auto run = [&](tg::nn::Sequential& model) {
    tg::optim::Adam opt(model.parameters(), {.lr = 1e-2});
    for (int step = 0; step < kSteps; ++step) {
      opt.zero_grad();
      tg::nn::functional::mse_loss(model(x), y).backward();
      opt.step();
    }
  };
  auto weights = [](const tg::nn::Module& model) {
    std::vector<float> all;
    for (const tg::Tensor& t : model.parameters())
      all.insert(all.end(), t.data<float>(), t.data<float>() + t.numel());
    return all;
  };
  tg::nn::Sequential serial_a = make(1), serial_b = make(2);
  run(serial_a);
  run(serial_b);
  tg::nn::Sequential parallel_a = make(1), parallel_b = make(2);
  std::thread thread_a([&] { run(parallel_a); });
  std::thread thread_b([&] { run(parallel_b); });
  thread_a.join();
  thread_b.join();
  CHECK(bit_equal(weights(serial_a), weights(parallel_a)));
  CHECK(bit_equal(weights(serial_b), weights(parallel_b)));

  SUBCASE("and a trained model serves predictions to several threads under NoGradGuard") {
    serial_a.eval();
    tg::Tensor expected;
    {
      tg::NoGradGuard no_grad;
      expected = serial_a(x);
    }
    std::vector<std::vector<double>> predictions(3);
    std::vector<std::thread> readers;
    for (auto& out : predictions)
      readers.emplace_back([&] {
        tg::NoGradGuard no_grad;
        for (int i = 0; i < 50; ++i) out = serial_a(x).to_vector();
      });
    for (std::thread& t : readers) t.join();
    for (const auto& out : predictions) CHECK(out == expected.to_vector());
  }
}

TEST_CASE("threads may share tensors they only read: one data set, two models") {
  tg::set_num_threads(1);
  constexpr int kSteps = 100;
  Problem serial_a = make_problem(3), serial_b = make_problem(4);
  serial_b.x = serial_a.x;  // the same storage, read by both
  serial_b.y = serial_a.y;
  const std::vector<float> losses_a = train(serial_a, kSteps);
  const std::vector<float> losses_b = train(serial_b, kSteps);

  Problem parallel_a = make_problem(3), parallel_b = make_problem(4);
  parallel_b.x = parallel_a.x;
  parallel_b.y = parallel_a.y;
  std::vector<float> threaded_a, threaded_b;
  std::thread thread_a([&] { threaded_a = train(parallel_a, kSteps); });
  std::thread thread_b([&] { threaded_b = train(parallel_b, kSteps); });
  thread_a.join();
  thread_b.join();
  CHECK(bit_equal(losses_a, threaded_a));
  CHECK(bit_equal(losses_b, threaded_b));
}

TEST_CASE("a NoGradGuard in one thread does not switch off recording in another") {
  tg::Tensor w = tg::ones({3}, {.requires_grad = true});
  std::barrier sync(2);
  bool guarded_thread_grad_enabled = true, guarded_thread_recorded = true;
  bool other_thread_grad_enabled = false, other_thread_recorded = false;

  std::thread guarded([&] {
    tg::NoGradGuard no_grad;
    sync.arrive_and_wait();  // the guard is alive while the other thread records
    guarded_thread_grad_enabled = tg::is_grad_enabled();
    guarded_thread_recorded = (w * 2.0).requires_grad();
    sync.arrive_and_wait();
  });
  std::thread other([&] {
    sync.arrive_and_wait();
    other_thread_grad_enabled = tg::is_grad_enabled();
    tg::Tensor y = (w * 2.0).sum();
    other_thread_recorded = y.requires_grad();
    sync.arrive_and_wait();
  });
  guarded.join();
  other.join();

  CHECK_FALSE(guarded_thread_grad_enabled);
  CHECK_FALSE(guarded_thread_recorded);
  CHECK(other_thread_grad_enabled);
  CHECK(other_thread_recorded);
  CHECK(tg::is_grad_enabled());  // neither leaked into the main thread
}

TEST_CASE("a new thread starts with grad mode on whatever the spawning thread has") {
  tg::NoGradGuard no_grad;
  bool enabled_in_child = false;
  std::thread child([&] { enabled_in_child = tg::is_grad_enabled(); });
  child.join();
  CHECK(enabled_in_child);  // grad mode is thread-local and not inherited, as in PyTorch
  CHECK_FALSE(tg::is_grad_enabled());
}

TEST_CASE("threads allocating and freeing large buffers at once keep their values apart") {
  // Buffers of 64 KiB and more go through the shared free list in storage.cpp.
  constexpr int kThreads = 4, kRounds = 200;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int id = 0; id < kThreads; ++id)
    threads.emplace_back([id, &mismatches] {
      for (int round = 0; round < kRounds; ++round) {
        const double value = id * 1000 + round;
        tg::Tensor big = tg::full({128, 256}, value);  // 128 KiB
        tg::Tensor twice = big + big;
        const float* data = twice.data<float>();
        for (int64_t i = 0; i < twice.numel(); i += 997)
          if (data[i] != static_cast<float>(2 * value)) ++mismatches;
      }
    });
  for (std::thread& t : threads) t.join();
  CHECK(mismatches.load() == 0);
}

TEST_CASE("threads drawing from the global generator at once share one stream without a race") {
  // rand() takes one draw per element, so however the two threads interleave, together they
  // get exactly the first 2n numbers of the stream that a single thread would see.
  constexpr int64_t n = 20'000;
  tg::manual_seed(11);
  std::vector<double> expected = tg::rand({2 * n}, {.dtype = tg::f64}).to_vector();
  tg::manual_seed(11);
  std::vector<double> a, b;
  std::thread thread_a([&] { a = tg::rand({n}, {.dtype = tg::f64}).to_vector(); });
  std::thread thread_b([&] { b = tg::rand({n}, {.dtype = tg::f64}).to_vector(); });
  thread_a.join();
  thread_b.join();
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  std::sort(expected.begin(), expected.end());
  CHECK(a == expected);
}
