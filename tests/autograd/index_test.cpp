// Indexing ops: select and t[i], slice, index_select, gather and scatter_add.
#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

namespace {
tg::Tensor indices(std::vector<double> values, tg::Shape shape) {
  return tg::tensor(std::move(values), std::move(shape), {.dtype = tg::i64});
}
}  // namespace

TEST_CASE("index_select picks rows or columns, repeats allowed") {
  const tg::Tensor x = tg::arange(6, {.dtype = tg::f64}).reshape({3, 2});  // [[0,1],[2,3],[4,5]]
  TG_CHECK_VALUES(x.index_select(0, indices({2, 0, 2}, {3})), {4, 5, 0, 1, 4, 5});
  TG_CHECK_VALUES(x.index_select(-1, indices({1}, {1})), {1, 3, 5});
}

TEST_CASE("index_select accumulates the gradient of repeated rows") {
  tg::Tensor x = leaf({0, 1, 2, 3, 4, 5}, {3, 2});
  x.index_select(0, indices({2, 0, 2}, {3})).sum().backward();
  TG_CHECK_VALUES(x.grad(), {1, 1, 0, 0, 2, 2});
}

TEST_CASE("gather takes one element per row: the cross-entropy pick") {
  tg::Tensor logp = leaf({-1, -2, -3, -4, -5, -6}, {2, 3});
  const tg::Tensor picked = logp.gather(1, indices({2, 0}, {2, 1}));
  CHECK(picked.shape() == tg::Shape{2, 1});
  TG_CHECK_VALUES(picked, {-3, -4});
  picked.sum().backward();
  TG_CHECK_VALUES(logp.grad(), {0, 0, 1, 1, 0, 0});
}

TEST_CASE("scatter_add adds sources at indexed positions") {
  const tg::Tensor base = tg::zeros({2, 3}, {.dtype = tg::f64});
  const tg::Tensor source = tg::tensor({1, 2, 3, 4}, {2, 2}, {.dtype = tg::f64});
  // row 0: source 1 → col 0, source 2 → col 0; row 1: 3 → col 2, 4 → col 1
  const tg::Tensor out = tg::scatter_add(base, 1, indices({0, 0, 2, 1}, {2, 2}), source);
  TG_CHECK_VALUES(out, {3, 0, 0, 0, 4, 3});
}

TEST_CASE("indexing ops pass gradcheck") {
  tg::manual_seed(10);
  const tg::Tensor x = uniform({3, 4}, -1.0, 1.0);
  SUBCASE("index_select dim 0 with repeats") {
    TG_CHECK_GRADCHECK(
        [](const std::vector<tg::Tensor>& in) {
          return in[0].index_select(0, indices({1, 1, 2, 0}, {4}));
        },
        {x});
  }
  SUBCASE("index_select dim 1") {
    TG_CHECK_GRADCHECK(
        [](const std::vector<tg::Tensor>& in) {
          return in[0].index_select(1, indices({3, 0}, {2}));
        },
        {x});
  }
  SUBCASE("gather") {
    TG_CHECK_GRADCHECK(
        [](const std::vector<tg::Tensor>& in) {
          return in[0].gather(1, indices({0, 3, 2, 2, 1, 0}, {3, 2}));
        },
        {x});
  }
  SUBCASE("scatter_add, into the base and from the source") {
    const tg::Tensor source = uniform({3, 2}, -1.0, 1.0);
    TG_CHECK_GRADCHECK(
        [](const std::vector<tg::Tensor>& in) {
          return tg::scatter_add(in[0], 1, indices({0, 0, 3, 1, 2, 2}, {3, 2}), in[1]);
        },
        {x, source});
  }
}

TEST_CASE("select and t[i] drop a dim; negative indices count from the end") {
  const tg::Tensor x = tg::arange(6, {.dtype = tg::f64}).reshape({3, 2});  // [[0,1],[2,3],[4,5]]
  CHECK(x[1].shape() == tg::Shape{2});
  TG_CHECK_VALUES(x[1], {2, 3});
  TG_CHECK_VALUES(x[-1], {4, 5});
  TG_CHECK_VALUES(x.select(1, 0), {0, 2, 4});
  CHECK(x[2][1].shape() == tg::Shape{});
  CHECK(x[2][1].item() == 5);
  TG_CHECK_ERROR(x[3], "select", "index 3", "[3, 2]");
  TG_CHECK_ERROR(x.select(1, -3), "select", "index -3");
  TG_CHECK_ERROR(tg::scalar(1.0)[0], "select");
  tg::manual_seed(31);
  auto f = [](const std::vector<tg::Tensor>& in) { return tg::square(in[0][-1]) * in[0][0]; };
  TG_CHECK_GRADCHECK(f, {uniform({3, 2}, -1, 1)});
  CHECK(tg::gradgradcheck(f, {uniform({3, 2}, -1, 1)}).ok);
}

TEST_CASE("slice takes start:end:step with Python's clamping") {
  const tg::Tensor x = tg::arange(10, {.dtype = tg::f64});
  TG_CHECK_VALUES(x.slice(0, 2, 5), {2, 3, 4});
  TG_CHECK_VALUES(x.slice(0, 1, 8, 3), {1, 4, 7});
  TG_CHECK_VALUES(x.slice(0, -3, 100), {7, 8, 9});
  TG_CHECK_VALUES(x.slice(0, 0, -8), {0, 1});
  TG_CHECK_VALUES(x.slice(0, -100, 2), {0, 1});
  CHECK(x.slice(0, 6, 3).numel() == 0);
  CHECK(x.slice(0, 20, 30).numel() == 0);
  const tg::Tensor m = tg::arange(12, {.dtype = tg::f64}).reshape({3, 4});
  TG_CHECK_VALUES(m.slice(1, 0, 4, 2), {0, 2, 4, 6, 8, 10});
  TG_CHECK_ERROR(x.slice(0, 0, 5, 0), "slice", "step must be positive");
  TG_CHECK_ERROR(x.slice(1, 0, 5), "slice", "dim 1");
  tg::manual_seed(32);
  for (int64_t step : {1, 2, 3}) {
    CAPTURE(step);
    auto f = [step](const std::vector<tg::Tensor>& in) {
      return tg::square(in[0].slice(1, -4, 100, step));
    };
    TG_CHECK_GRADCHECK(f, {uniform({2, 5}, -1, 1)});
    CHECK(tg::gradgradcheck(f, {uniform({2, 5}, -1, 1)}).ok);
  }
}
