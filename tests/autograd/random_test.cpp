// tg::get_rng_state and tg::set_rng_state: the global generator saved and restored exactly.
#include "support/testing.hpp"

namespace {

// The next `n` raw draws of the global generator.
std::vector<uint64_t> draws(int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(tg::random::next_bits());
  return out;
}

}  // namespace

TEST_CASE("the state is an i64 [4] tensor, and restoring it repeats every later draw") {
  tg::manual_seed(11);
  (void)draws(5);
  const tg::Tensor state = tg::get_rng_state();
  CHECK(state.dtype() == tg::i64);
  CHECK(state.shape() == tg::Shape{4});
  const std::vector<uint64_t> first = draws(3);
  const std::vector<double> uniform = tg::rand({4}, {.dtype = tg::f64}).to_vector();
  const std::vector<double> normal = tg::randn({3}, {.dtype = tg::f64}).to_vector();
  const std::vector<double> permutation = tg::randperm(6).to_vector();
  tg::set_rng_state(state);
  CHECK(draws(3) == first);
  CHECK(tg::rand({4}, {.dtype = tg::f64}).to_vector() == uniform);
  CHECK(tg::randn({3}, {.dtype = tg::f64}).to_vector() == normal);
  CHECK(tg::randperm(6).to_vector() == permutation);
}

TEST_CASE("the state is a copy: drawing after get_rng_state does not change it") {
  tg::manual_seed(1);
  const tg::Tensor state = tg::get_rng_state();
  const std::vector<double> before = state.to_vector();
  (void)draws(10);
  CHECK(state.to_vector() == before);
}

TEST_CASE("manual_seed's state is splitmix64 of the seed, word by word") {
  // splitmix64 from seed 0: its first output is 0xE220A8397B1DCDAF (Vigna's reference code).
  tg::manual_seed(0);
  const tg::Tensor state = tg::get_rng_state();
  CHECK(static_cast<uint64_t>(state.data<int64_t>()[0]) == 0xE220A8397B1DCDAFull);
}

TEST_CASE("a malformed state throws tg::Error naming it, the generator unchanged") {
  tg::manual_seed(5);
  const tg::Tensor state = tg::get_rng_state();
  auto expect_rejected = [&](const tg::Tensor& bad, std::initializer_list<const char*> fragments) {
    const std::string message = tg::testing::error_message([&] { tg::set_rng_state(bad); });
    CAPTURE(message);
    CHECK(tg::testing::contains(message, "tg::set_rng_state"));
    for (const char* fragment : fragments) CHECK(tg::testing::contains(message, fragment));
    CHECK(tg::get_rng_state().to_vector() == state.to_vector());
  };
  SUBCASE("undefined") { expect_rejected(tg::Tensor(), {"undefined"}); }
  SUBCASE("f64") { expect_rejected(state.to(tg::f64), {"i64", "f64 [4]"}); }
  SUBCASE("wrong shape") {
    expect_rejected(tg::zeros({5}, {.dtype = tg::i64}), {"shape [4]", "i64 [5]"});
    expect_rejected(state.reshape({2, 2}), {"i64 [2, 2]"});
  }
  SUBCASE("all zero") { expect_rejected(tg::zeros({4}, {.dtype = tg::i64}), {"all-zero"}); }
}
