// Backward hooks: a leaf's post-accumulate-grad hook fires once, when its gradient is final, and
// end-of-backward callbacks run after every gradient, on success and on failure.
#include <stdexcept>
#include <string>
#include <vector>

#include "support/testing.hpp"

using tg::testing::contains;
using tg::testing::leaf;

namespace {

// Records "<what>" in order, so a test can assert when each hook ran relative to the others.
struct EventLog {
  std::vector<std::string> events;
};

// Identity whose backward logs that it ran: marks a point in the middle of a backward walk.
struct Marker : tg::autograd::Function<Marker> {
  static constexpr const char* name = "marker";
  static inline EventLog* log = nullptr;
  static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x) { return x; }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                          std::vector<tg::Tensor> grad_outputs) {
    log->events.push_back("marker backward");
    return {grad_outputs[0]};  // d(x)/dx = 1
  }
};

// Identity whose backward throws.
struct Failing : tg::autograd::Function<Failing> {
  static constexpr const char* name = "failing";
  static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x) { return x; }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*, std::vector<tg::Tensor>) {
    throw std::runtime_error("backward of failing broke");
  }
};

}  // namespace

TEST_CASE("a leaf's hook runs once per backward with the final, fully summed gradient") {
  tg::Tensor w = leaf({1, 2}, {2});
  std::vector<std::vector<double>> seen;
  tg::autograd::register_post_accumulate_grad_hook(
      w, [&](const tg::Tensor& l) { seen.push_back(l.grad().to_vector()); });
  // w used three times: d/dw (w·w + 3w).sum() = 2w + 3 = [5, 7]
  ((w * w) + w * 3.0).sum().backward();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::vector<double>{5, 7});
  SUBCASE("a second backward accumulates, and the hook sees the sum") {
    (w * 2.0).sum().backward();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1] == std::vector<double>{7, 9});
  }
}

TEST_CASE("a hook fires while the rest of the backward still runs") {
  EventLog log;
  Marker::log = &log;
  tg::Tensor early = leaf({2}, {1});  // near the loss: its gradient is final first
  tg::Tensor late = leaf({3}, {1});   // its gradient passes the marker first
  tg::autograd::register_post_accumulate_grad_hook(
      early, [&](const tg::Tensor&) { log.events.push_back("early ready"); });
  tg::autograd::register_post_accumulate_grad_hook(
      late, [&](const tg::Tensor&) { log.events.push_back("late ready"); });
  const tg::Tensor hidden = Marker::apply(late * 2.0);
  (hidden * early).sum().backward();
  CHECK(log.events == std::vector<std::string>{"early ready", "marker backward", "late ready"});
  TG_CHECK_VALUES(early.grad(), {6});  // d(2·late·early)/d early = 2·3
  TG_CHECK_VALUES(late.grad(), {4});   // d/d late = 2·early = 4
}

TEST_CASE("a hook does not fire when the backward sends the leaf no gradient") {
  tg::Tensor used = leaf({1}, {1});
  tg::Tensor unused = leaf({1}, {1});
  int calls = 0;
  tg::autograd::register_post_accumulate_grad_hook(unused, [&](const tg::Tensor&) { ++calls; });
  (used * 2.0).sum().backward();
  CHECK(calls == 0);
  SUBCASE("nor in tg::grad, which leaves .grad() alone") {
    (void)tg::grad({(unused * 2.0).sum()}, {unused});
    CHECK(calls == 0);
  }
}

TEST_CASE("a leaf that is itself the root of backward fires its hook") {
  tg::Tensor w = leaf({4}, {});
  int calls = 0;
  tg::autograd::register_post_accumulate_grad_hook(w, [&](const tg::Tensor&) { ++calls; });
  w.backward();
  CHECK(calls == 1);
  TG_CHECK_VALUES(w.grad(), {1});
}

TEST_CASE("a removed hook no longer fires and the others keep their order") {
  tg::Tensor w = leaf({1}, {1});
  std::vector<int> calls;
  const uint64_t first = tg::autograd::register_post_accumulate_grad_hook(
      w, [&](const tg::Tensor&) { calls.push_back(1); });
  tg::autograd::register_post_accumulate_grad_hook(w,
                                                   [&](const tg::Tensor&) { calls.push_back(2); });
  (w * 1.0).sum().backward();
  tg::autograd::remove_post_accumulate_grad_hook(w, first);
  tg::autograd::remove_post_accumulate_grad_hook(w, 987654321);  // unknown: ignored
  (w * 1.0).sum().backward();
  CHECK(calls == std::vector<int>{1, 2, 2});
}

TEST_CASE("queued callbacks run once after every gradient of that backward is accumulated") {
  tg::Tensor a = leaf({1}, {1});
  tg::Tensor b = leaf({2}, {1});
  std::vector<std::string> events;
  tg::autograd::register_post_accumulate_grad_hook(a, [&](const tg::Tensor&) {
    events.push_back("a ready");
    tg::autograd::queue_callback([&](std::exception_ptr failure) {
      events.push_back(failure ? "end with failure" : "end");
      events.push_back("b.grad " + std::to_string(b.grad().item()));
    });
  });
  (a * b).sum().backward();
  CHECK(events == std::vector<std::string>{"a ready", "end", "b.grad 1.000000"});
  events.clear();
  (a * 3.0).sum().backward();  // a new backward: the old callback is gone, a new one queued
  CHECK(events == std::vector<std::string>{"a ready", "end", "b.grad 1.000000"});
}

TEST_CASE("a backward that throws still runs the queued callbacks with the failure") {
  tg::Tensor a = leaf({1}, {1});
  tg::Tensor b = leaf({2}, {1});
  std::string seen;
  tg::autograd::register_post_accumulate_grad_hook(a, [&](const tg::Tensor&) {
    tg::autograd::queue_callback([&](std::exception_ptr failure) {
      try {
        if (failure) std::rethrow_exception(failure);
        seen = "no failure";
      } catch (const std::runtime_error& error) {
        seen = error.what();
      }
    });
  });
  // a's gradient is final before the failing record runs.
  const tg::Tensor loss = (a * 2.0).sum() + Failing::apply(b).sum();
  SUBCASE("the original exception propagates") {
    CHECK_THROWS_WITH_AS(loss.backward(), "backward of failing broke", std::runtime_error);
    CHECK(seen == "backward of failing broke");
  }
}

TEST_CASE("hook misuse throws tg::Error naming the function") {
  const tg::Tensor w = leaf({1, 2}, {2});
  TG_CHECK_ERROR(
      tg::autograd::register_post_accumulate_grad_hook(w * 2.0, [](const tg::Tensor&) {}),
      "register_post_accumulate_grad_hook", "not a leaf", "[2]", "mul");
  TG_CHECK_ERROR(
      tg::autograd::register_post_accumulate_grad_hook(tg::Tensor(), [](const tg::Tensor&) {}),
      "register_post_accumulate_grad_hook", "undefined");
  TG_CHECK_ERROR(tg::autograd::queue_callback([](std::exception_ptr) {}), "queue_callback",
                 "no backward is running");
}
