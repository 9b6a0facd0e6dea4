// The tape and the backward engine: when records are made, accumulation, retain_graph,
// released graphs, grad_output, NoGradGuard per thread, deep chains, tg::grad.
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "support/testing.hpp"

using tg::testing::contains;
using tg::testing::leaf;

TEST_CASE("an op records only in grad mode and only if an input requires grad") {
  const tg::Tensor plain = tg::tensor({1, 2}, {.dtype = tg::f64});
  const tg::Tensor w = leaf({3, 4}, {2});
  CHECK_FALSE((plain * 2.0).requires_grad());
  CHECK((plain * w).requires_grad());
  CHECK_FALSE((plain * w).is_leaf());
  tg::NoGradGuard no_grad;
  CHECK_FALSE(tg::is_grad_enabled());
  const tg::Tensor unrecorded = plain * w;
  CHECK_FALSE(unrecorded.requires_grad());
  CHECK(unrecorded.is_leaf());
}

TEST_CASE("gradients accumulate across backward calls until cleared") {
  tg::Tensor w = leaf({1, 2}, {2});
  (w * 3.0).sum().backward();
  (w * 3.0).sum().backward();
  TG_CHECK_VALUES(w.grad(), {6, 6});
  w.zero_grad();
  CHECK_FALSE(w.grad().defined());
  (w * w).sum().backward();
  TG_CHECK_VALUES(w.grad(), {2, 4});
}

TEST_CASE("a tensor used twice receives the sum of both paths") {
  tg::Tensor x = leaf({3}, {});
  const tg::Tensor y = x * x + x;  // dy/dx = 2x + 1 = 7
  y.backward();
  CHECK(x.grad().item() == 7);
}

TEST_CASE("retain_graph allows a second backward, and without it the graph is released") {
  tg::Tensor x = leaf({2}, {});
  const tg::Tensor y = tg::exp(x) * x;
  y.backward({.retain_graph = true});
  const double first = x.grad().item();
  y.backward();
  CHECK(x.grad().item() == doctest::Approx(2 * first));
  const std::string message = tg::testing::error_message([&] { y.backward(); });
  CAPTURE(message);
  CHECK(contains(message, "retain_graph"));
  CHECK_THROWS_AS(y.backward(), tg::Error);
}

TEST_CASE("backward with a grad_output weights a non-scalar output") {
  tg::Tensor x = leaf({1, 2, 3}, {3});
  const tg::Tensor y = x * x;
  y.backward(tg::tensor({1, 0.5, -1}, {.dtype = tg::f64}));
  TG_CHECK_VALUES(x.grad(), {2, 2, -6});  // 2x · weight
}

TEST_CASE("backward on a non-scalar without a grad_output is an error") {
  tg::Tensor x = leaf({1, 2}, {2});
  const std::string message = tg::testing::error_message([&] { (x * 2.0).backward(); });
  CAPTURE(message);
  CHECK(contains(message, "backward"));
  CHECK(contains(message, "[2]"));
}

TEST_CASE("NoGradGuard is per thread") {
  tg::Tensor w = leaf({1}, {1});
  tg::NoGradGuard no_grad;
  bool recorded_in_other_thread = false;
  std::thread other([&] { recorded_in_other_thread = (w * 2.0).requires_grad(); });
  other.join();
  CHECK(recorded_in_other_thread);
  CHECK_FALSE((w * 2.0).requires_grad());
}

TEST_CASE("detach cuts the graph") {
  tg::Tensor x = leaf({2}, {});
  const tg::Tensor y = x * x;
  const tg::Tensor z = y.detach() * x;  // only the direct use of x carries a gradient
  z.backward();
  CHECK(x.grad().item() == 4);  // d/dx (c · x) = c = x² = 4
}

TEST_CASE("a 1,000,000-record scalar chain backprops and tears down without stack overflow") {
  tg::Tensor x = tg::scalar(1.0, {.dtype = tg::f64, .requires_grad = true});
  SUBCASE("backward through the chain") {
    tg::Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y * 1.0;
    y.backward();
    CHECK(x.grad().item() == 1);
  }
  SUBCASE("dropping the chain without backward") {
    tg::Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = y + 0.0;
    y = tg::Tensor();
    CHECK_FALSE(y.defined());
  }
}

TEST_CASE("tg::grad returns gradients without touching .grad()") {
  tg::Tensor x = leaf({1, 2}, {2});
  tg::Tensor unused = leaf({5}, {1});
  const tg::Tensor y = (x * x * x).sum();
  const std::vector<tg::Tensor> g = tg::grad({y}, {x, unused}, {}, false, true);
  TG_CHECK_VALUES(g[0], {3, 12});  // 3x²
  CHECK_FALSE(g[1].defined());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("backward through an f32 graph accumulates f32 gradients") {
  tg::Tensor w = tg::tensor({0.5f, -1.0f}, {.requires_grad = true});
  (w * w).sum().backward();
  CHECK(w.grad().dtype() == tg::f32);
  TG_CHECK_VALUES(w.grad(), {1, -2});
}

namespace {

std::vector<int> backward_order;  // the tags of Logged records, in the order backward ran them

// The identity, logging its tag when its backward runs.
struct Logged : tg::autograd::Function<Logged> {
  static tg::Tensor forward(tg::autograd::AutogradContext* ctx, const tg::Tensor& x, double tag) {
    ctx->saved_data["tag"] = tag;
    return x * 1.0;
  }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext* ctx,
                                          std::vector<tg::Tensor> grad_outputs) {
    backward_order.push_back(static_cast<int>(ctx->saved_data["tag"]));
    return {grad_outputs[0]};
  }
};

}  // namespace

TEST_CASE("records run newest first, few or many, their numbers close together or far apart") {
  // The depth-first walk from the root meets b before d, so the records must be put in order:
  // a small graph, a large one (300 records between a and d), and a large one whose numbers
  // are spread apart by 2,000 records of another graph.
  for (const auto& [chain, unrelated] : {std::pair{0, 0}, {300, 0}, {300, 2000}}) {
    CAPTURE(chain);
    CAPTURE(unrelated);
    backward_order.clear();
    const tg::Tensor x = leaf({2}, {});
    tg::Tensor a = Logged::apply(x, 1.0);
    const tg::Tensor b = Logged::apply(x, 2.0);
    for (int i = 0; i < chain; ++i) a = a * 1.0;
    tg::Tensor other = leaf({2}, {});
    for (int i = 0; i < unrelated; ++i) other = other * 1.0;
    const tg::Tensor d = Logged::apply(a, 3.0);
    (d + b).sum().backward();
    CHECK(backward_order == std::vector<int>{3, 2, 1});
    CHECK(x.grad().item() == 2);
  }
}

TEST_CASE("a graph continued on another thread backprops through both parts") {
  tg::Tensor x = leaf({2}, {});
  tg::Tensor y;
  // The worker records a long chain first, so its records carry larger numbers than the ones
  // this thread is about to make on top of them.
  std::thread worker([&] {
    tg::Tensor t = x;
    for (int i = 0; i < 100; ++i) t = t * 1.0;
    y = t * 3.0;
  });
  worker.join();
  const tg::Tensor z = y * y;  // z = (3x)², dz/dx = 18x = 36
  z.backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().item() == 36);
}

TEST_CASE("a retained graph can be walked again from another thread") {
  tg::Tensor x = leaf({2}, {});
  const tg::Tensor y = x * x;  // dy/dx = 2x = 4
  // Each walk runs on a fresh thread, so both are their thread's first: per-thread walk counts
  // would be equal and the second walk would take the first one's marks for its own.
  for (int walk = 0; walk < 2; ++walk) {
    std::thread other([&] { y.backward({.retain_graph = true}); });
    other.join();
  }
  CHECK(x.grad().item() == 8);  // 4 from each backward
}

namespace {
// Identity whose backward throws the first time it runs and passes its gradient on after that.
struct FailsOnce : tg::autograd::Function<FailsOnce> {
  static constexpr const char* name = "fails_once";
  static inline bool failed = false;
  static tg::Tensor forward(tg::autograd::AutogradContext*, const tg::Tensor& x) { return x; }
  static std::vector<tg::Tensor> backward(tg::autograd::AutogradContext*,
                                          std::vector<tg::Tensor> grad_outputs) {
    if (!std::exchange(failed, true)) throw std::runtime_error("fails_once broke");
    return {grad_outputs[0]};
  }
};
}  // namespace

TEST_CASE("a backward that throws midway leaves no partial sum for the next one") {
  tg::Tensor x = leaf({1}, {});
  const tg::Tensor y = x * 2.0;
  // The add runs first and hands y's record its share; then fails_once throws before passing on
  // its own, so y's record holds half a sum when the walk stops.
  const tg::Tensor z = FailsOnce::apply(y) + y;
  CHECK_THROWS_AS(z.backward({.retain_graph = true}), std::runtime_error);
  CHECK_FALSE(x.grad().defined());
  z.backward({.retain_graph = true});
  CHECK(x.grad().item() == 4);  // dz/dx = 2 + 2; the half sum left behind would make it 6
}
