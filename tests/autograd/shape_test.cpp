// Shape ops: reshape, flatten, transpose, permute, t, unsqueeze, squeeze, cat, stack, narrow,
// split, chunk, broadcast_to, expand, sum_to.
#include "support/testing.hpp"

using tg::testing::leaf;
using tg::testing::uniform;

TEST_CASE("reshape keeps row-major order and infers one -1") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  CHECK(x.reshape({3, 2}).shape() == tg::Shape{3, 2});
  CHECK(x.reshape({-1}).shape() == tg::Shape{6});
  CHECK(x.reshape({3, -1}).shape() == tg::Shape{3, 2});
  TG_CHECK_VALUES(x.reshape({3, 2}), {1, 2, 3, 4, 5, 6});
}

TEST_CASE("transpose and t swap dims, with negative dims counted from the end") {
  const tg::Tensor x = tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64});
  TG_CHECK_VALUES(x.t(), {1, 4, 2, 5, 3, 6});
  CHECK(x.t().shape() == tg::Shape{3, 2});
  TG_CHECK_VALUES(x.transpose(-1, -2), {1, 4, 2, 5, 3, 6});
  const tg::Tensor y = tg::arange(24, {.dtype = tg::f64}).reshape({2, 3, 4});
  const tg::Tensor z = y.transpose(0, 2);  // z[k][j][i] = y[i][j][k] = 12i + 4j + k
  CHECK(z.shape() == tg::Shape{4, 3, 2});
  CHECK(z.to_vector()[1] == 12);  // z[0][0][1] = y[1][0][0]
  CHECK(z.to_vector()[6] == 1);   // z[1][0][0] = y[0][0][1]
}

TEST_CASE("unsqueeze and squeeze add and remove a dim of size 1") {
  const tg::Tensor x = tg::tensor({1, 2, 3}, {.dtype = tg::f64});
  CHECK(x.unsqueeze(0).shape() == tg::Shape{1, 3});
  CHECK(x.unsqueeze(-1).shape() == tg::Shape{3, 1});
  CHECK(x.unsqueeze(1).squeeze(1).shape() == tg::Shape{3});
  CHECK(x.unsqueeze(0).squeeze(-2).shape() == tg::Shape{3});
  CHECK(x.squeeze(0).shape() == tg::Shape{3});  // not of size 1: unchanged, as PyTorch
}

TEST_CASE("cat joins along a dim and splits the gradient back") {
  tg::Tensor a = leaf({1, 2, 3, 4}, {2, 2});
  tg::Tensor b = leaf({5, 6}, {2, 1});
  const tg::Tensor joined = tg::cat({a, b}, -1);
  CHECK(joined.shape() == tg::Shape{2, 3});
  TG_CHECK_VALUES(joined, {1, 2, 5, 3, 4, 6});
  (joined * tg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, {.dtype = tg::f64})).sum().backward();
  TG_CHECK_VALUES(a.grad(), {1, 2, 4, 5});
  TG_CHECK_VALUES(b.grad(), {3, 6});
}

TEST_CASE("narrow takes a slice along a dim") {
  const tg::Tensor x = tg::arange(12, {.dtype = tg::f64}).reshape({3, 4});
  TG_CHECK_VALUES(tg::narrow(x, 1, 1, 2), {1, 2, 5, 6, 9, 10});
  TG_CHECK_VALUES(tg::narrow(x, 0, 2, 1), {8, 9, 10, 11});
}

TEST_CASE("broadcast_to copies and sum_to reduces back") {
  const tg::Tensor x = tg::tensor({1, 2}, {2, 1}, {.dtype = tg::f64});
  const tg::Tensor wide = tg::broadcast_to(x, {3, 2, 2});
  CHECK(wide.shape() == tg::Shape{3, 2, 2});
  TG_CHECK_VALUES(wide, {1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2});
  const tg::Tensor back = tg::sum_to(wide, {2, 1});
  TG_CHECK_VALUES(back, {6, 12});  // three copies of two ones each: 1·6, 2·6
  TG_CHECK_VALUES(tg::sum_to(wide, {}), {18});
}

TEST_CASE("shape ops pass gradcheck") {
  tg::manual_seed(9);
  const tg::Tensor x = uniform({2, 3, 4}, -1.0, 1.0);
  const tg::Tensor y = uniform({2, 2, 4}, -1.0, 1.0);
  auto check = [&](auto f) {
    TG_CHECK_GRADCHECK([&](const std::vector<tg::Tensor>& in) { return f(in[0], in[1]); }, {x, y});
  };
  SUBCASE("reshape") {
    check([](auto& a, auto&) { return a.reshape({4, -1}); });
  }
  SUBCASE("transpose") {
    check([](auto& a, auto&) { return a.transpose(0, -1); });
  }
  SUBCASE("t") {
    check([](auto& a, auto&) { return a.reshape({6, 4}).t(); });
  }
  SUBCASE("unsqueeze/squeeze") {
    check([](auto& a, auto&) { return a.unsqueeze(1).squeeze(1).unsqueeze(-1); });
  }
  SUBCASE("cat") {
    check([](auto& a, auto& b) { return tg::cat({a, b, a}, 1); });
  }
  SUBCASE("narrow") {
    check([](auto& a, auto&) { return tg::narrow(a, 2, 1, 2); });
  }
  SUBCASE("broadcast_to") {
    check([](auto& a, auto&) { return tg::broadcast_to(a.sum(1, true), {2, 5, 4}); });
  }
  SUBCASE("sum_to") {
    check([](auto& a, auto&) { return tg::sum_to(a, {3, 1}); });
  }
}

TEST_CASE("stack joins equal shapes along a new dim") {
  const tg::Tensor a = tg::tensor({1, 2, 3}, {.dtype = tg::f64});
  const tg::Tensor b = tg::tensor({4, 5, 6}, {.dtype = tg::f64});
  CHECK(tg::stack({a, b}, 0).shape() == tg::Shape{2, 3});
  TG_CHECK_VALUES(tg::stack({a, b}, 0), {1, 2, 3, 4, 5, 6});
  CHECK(tg::stack({a, b}, -1).shape() == tg::Shape{3, 2});
  TG_CHECK_VALUES(tg::stack({a, b}, 1), {1, 4, 2, 5, 3, 6});
  TG_CHECK_ERROR(tg::stack({a, tg::zeros({2})}, 0), "stack", "[3]", "[2]");
  TG_CHECK_ERROR(tg::stack({}, 0), "stack");
}

TEST_CASE("flatten merges start_dim..end_dim; flatten() gives 1-D") {
  const tg::Tensor x = tg::zeros({2, 3, 4, 5});
  CHECK(x.flatten().shape() == tg::Shape{120});
  CHECK(x.flatten(1).shape() == tg::Shape{2, 60});
  CHECK(x.flatten(1, 2).shape() == tg::Shape{2, 12, 5});
  CHECK(x.flatten(-2, -1).shape() == tg::Shape{2, 3, 20});
  CHECK(tg::scalar(1.0).flatten().shape() == tg::Shape{1});
  TG_CHECK_ERROR(x.flatten(2, 1), "flatten", "start_dim 2", "end_dim 1");
  TG_CHECK_ERROR(x.flatten(4), "flatten", "dim 4");
}

TEST_CASE("permute reorders dims and its gradient permutes back") {
  const tg::Tensor x = tg::arange(6, {.dtype = tg::f64}).reshape({1, 2, 3});
  const tg::Tensor p = x.permute({2, 0, 1});
  CHECK(p.shape() == tg::Shape{3, 1, 2});
  TG_CHECK_VALUES(p, {0, 3, 1, 4, 2, 5});
  TG_CHECK_ERROR(x.permute({0, 1}), "permute", "2 dims", "[1, 2, 3]");
  TG_CHECK_ERROR(x.permute({0, 1, 1}), "permute", "repeat dim 1");
  tg::manual_seed(21);
  for (const tg::Shape& dims : {tg::Shape{2, 0, 1}, tg::Shape{1, 2, 0}, tg::Shape{-1, 1, 0}}) {
    auto f = [&](const std::vector<tg::Tensor>& in) { return tg::square(in[0].permute(dims)); };
    TG_CHECK_GRADCHECK(f, {uniform({2, 3, 4}, -1, 1)});
    CHECK(tg::gradgradcheck(f, {uniform({2, 3, 4}, -1, 1)}).ok);
  }
}

TEST_CASE("expand repeats size-1 dims, -1 keeps a size, and the gradient sums back") {
  tg::Tensor x = leaf({1, 2, 3}, {3, 1});
  const tg::Tensor e = x.expand({2, 3, -1}).expand({2, -1, 4});
  CHECK(e.shape() == tg::Shape{2, 3, 4});
  e.sum().backward();
  TG_CHECK_VALUES(x.grad(), {8, 8, 8});
  TG_CHECK_ERROR(x.expand({2, 2}), "expand", "[3, 1]", "[2, 2]");
  TG_CHECK_ERROR(x.expand({-1, 3, 1}), "expand", "-1");
  TG_CHECK_ERROR(x.expand({4}), "expand", "fewer dims");
  tg::manual_seed(22);
  auto f = [](const std::vector<tg::Tensor>& in) { return tg::square(in[0].expand({2, 3, 4})); };
  TG_CHECK_GRADCHECK(f, {uniform({3, 1}, -1, 1)});
  CHECK(tg::gradgradcheck(f, {uniform({1, 4}, -1, 1)}).ok);
}

TEST_CASE("split and chunk follow PyTorch's rules for uneven sizes") {
  const tg::Tensor x = tg::arange(7, {.dtype = tg::f64});
  const std::vector<tg::Tensor> pieces = tg::split(x, 3);
  REQUIRE(pieces.size() == 3);
  TG_CHECK_VALUES(pieces[0], {0, 1, 2});
  TG_CHECK_VALUES(pieces[2], {6});
  // chunk(7, 3): pieces of ceil(7/3) = 3, 3, 1
  const std::vector<tg::Tensor> chunks = tg::chunk(x, 3);
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[1].numel() == 3);
  CHECK(chunks[2].numel() == 1);
  // chunk(6, 4): pieces of ceil(6/4) = 2, so only 3 chunks, as in PyTorch
  CHECK(tg::chunk(tg::zeros({6}), 4).size() == 3);
  CHECK(tg::chunk(tg::zeros({2, 5}), 2, 1)[1].shape() == tg::Shape{2, 2});
  TG_CHECK_ERROR(tg::split(x, 0), "split", "size 0");
  TG_CHECK_ERROR(tg::chunk(x, 0), "chunk", "0");
  SUBCASE("the pieces' gradients land in their places") {
    tg::Tensor w = leaf({1, 2, 3, 4, 5}, {5});
    const std::vector<tg::Tensor> parts = tg::split(w, 2);
    (parts[0].sum() + 3.0 * parts[2].sum()).backward();
    TG_CHECK_VALUES(w.grad(), {1, 1, 0, 0, 3});
  }
  tg::manual_seed(23);
  auto f = [](const std::vector<tg::Tensor>& in) {
    const std::vector<tg::Tensor> parts = tg::chunk(in[0], 3, 1);
    return tg::square(parts[0]) * parts[2].sum();
  };
  TG_CHECK_GRADCHECK(f, {uniform({2, 7}, -1, 1)});
  CHECK(tg::gradgradcheck(f, {uniform({2, 7}, -1, 1)}).ok);
}

TEST_CASE("stack passes gradcheck and gradgradcheck") {
  tg::manual_seed(24);
  auto f = [](const std::vector<tg::Tensor>& in) {
    return tg::square(tg::stack({in[0], in[1] * in[0]}, 1));
  };
  TG_CHECK_GRADCHECK(f, {uniform({2, 3}, -1, 1), uniform({2, 3}, -1, 1)});
  CHECK(tg::gradgradcheck(f, {uniform({2, 3}, -1, 1), uniform({2, 3}, -1, 1)}).ok);
}
