// In-place ops inside autograd, as PyTorch's: recorded on non-leaf tensors (the tensor takes the
// new history), CopySlices for writes into views, refusals for leaves, free writes under
// NoGradGuard, and the assignment, indexing and structure helpers built on them.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <tapegrad/autograd.hpp>
#include <vector>

#include "../support/testing.hpp"

using tg::Shape;
using tg::Tensor;
using tg::testing::constant;
using tg::testing::leaf;

TEST_CASE("PyTorch's CopySlices example: a write into a view flows back to the base") {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = x * 1.0;
  y[0] = 0.0;
  TG_CHECK_VALUES(y, {0, 2, 3});
  y.sum().backward();
  TG_CHECK_VALUES(x.grad(), {0, 1, 1});
}

TEST_CASE("a value written into a view carries its own gradient into the base's history") {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  Tensor w = leaf({5, 7}, {2});
  Tensor y = x * 2.0;
  y[1] = w * w;  // row 1 replaced by w², broadcast-free
  (y * constant({1, 10, 100, 1000}, {2, 2})).sum().backward();
  TG_CHECK_VALUES(x.grad(), {2, 20, 0, 0});
  TG_CHECK_VALUES(w.grad(), {2 * 5 * 100.0, 2 * 7 * 1000.0});
  SUBCASE("and a view of a constant tensor takes a history when a gradient-carrying value lands") {
    Tensor z = tg::zeros({3}, {.dtype = tg::f64});
    Tensor v = leaf({4}, {1});
    z.narrow(0, 1, 1).copy_(v * 3.0);
    CHECK(z.requires_grad());
    (z * constant({1, 2, 3}, {3})).sum().backward();
    TG_CHECK_VALUES(v.grad(), {6});
  }
}

TEST_CASE("a write through a transposed view flows back to the base") {
  Tensor x = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = tg::sin(x) * 2.0;
  y.t()[1].mul_(constant({3, 5}, {2}));  // column 1 of y scaled
  (y * y).sum().backward();
  // d/dx Σ y²: 2·y·dy/dx with y = 2c·sin x: 8·c²·sin x·cos x
  const std::vector<double> c = {1, 3, 1, 1, 5, 1};
  std::vector<double> expected;
  for (size_t i = 0; i < 6; ++i) {
    const double v = static_cast<double>(i + 1);
    expected.push_back(8 * c[i] * c[i] * std::sin(v) * std::cos(v));
  }
  TG_CHECK_VALUES(x.grad(), expected);
}

namespace {

struct InPlaceOp {
  const char* name;
  std::function<void(Tensor&, const Tensor&)> write;  // into the first, reading the second
};

const std::vector<InPlaceOp>& in_place_ops() {
  static const std::vector<InPlaceOp> table = {
      {"add_", [](Tensor& y, const Tensor& w) { y.add_(w); }},
      {"sub_", [](Tensor& y, const Tensor& w) { y.sub_(w); }},
      {"mul_", [](Tensor& y, const Tensor& w) { y.mul_(w); }},
      {"div_", [](Tensor& y, const Tensor& w) { y.div_(w * w + 1.0); }},
      {"+=", [](Tensor& y, const Tensor& w) { y += w; }},
      {"-= double", [](Tensor& y, const Tensor&) { y -= 0.5; }},
      {"*=", [](Tensor& y, const Tensor& w) { y *= w; }},
      {"/= double", [](Tensor& y, const Tensor&) { y /= 4.0; }},
      {"pow_", [](Tensor& y, const Tensor&) { y.pow_(3.0); }},
      {"exp_", [](Tensor& y, const Tensor&) { y.exp_(); }},
      {"clamp_", [](Tensor& y, const Tensor&) { y.clamp_(-0.3, 0.4); }},
      {"relu_", [](Tensor& y, const Tensor&) { y.relu_(); }},
      {"sigmoid_", [](Tensor& y, const Tensor&) { y.sigmoid_(); }},
      {"tanh_", [](Tensor& y, const Tensor&) { y.tanh_(); }},
      {"copy_", [](Tensor& y, const Tensor& w) { y.copy_(w * 2.0); }},
      {"fill_", [](Tensor& y, const Tensor&) { y.fill_(1.5); }},
      {"zero_", [](Tensor& y, const Tensor&) { y.zero_(); }},
      {"masked_fill_",
       [](Tensor& y, const Tensor& w) { y.masked_fill_(tg::gt(w.detach(), 0.0), -2.0); }},
      {"index_put_",
       [](Tensor& y, const Tensor& w) {
         y.index_put_({tg::tensor(std::vector<int64_t>{2, 0}, {2})}, w.narrow(0, 0, 2) * 3.0);
       }},
      {"index_put_ accumulate",
       [](Tensor& y, const Tensor& w) {
         y.index_put_({tg::tensor(std::vector<int64_t>{1, 1, 3}, {3})}, w.narrow(0, 1, 3), true);
       }},
      {"index (row) assignment", [](Tensor& y, const Tensor& w) { y[2] = w[0] * w[1]; }},
      {"a view's add_",
       [](Tensor& y, const Tensor& w) { y.narrow(0, 1, 2).add_(w.narrow(0, 0, 2)); }},
      {"a strided view's mul_",
       [](Tensor& y, const Tensor& w) { y.slice(0, 0, 4, 2).mul_(w.slice(0, 1, 4, 2)); }},
  };
  return table;
}

}  // namespace

TEST_CASE("every recorded in-place op gives PyTorch's gradients (gradcheck, f64)") {
  tg::manual_seed(5);
  for (const InPlaceOp& op : in_place_ops()) {
    const std::string name = op.name;
    CAPTURE(name);
    // Away from clamp's and relu's kinks.
    const Tensor x = constant({0.7, -0.6, 0.25, -0.2}, {4});
    const Tensor w = constant({0.9, -1.1, 0.35, 1.3}, {4});
    auto fn = [&](const std::vector<Tensor>& in) {
      Tensor y = tg::sin(in[0]) * 1.0;  // a non-leaf
      op.write(y, in[1]);
      return y * y;  // reads y after the write, through its new history
    };
    TG_CHECK_GRADCHECK(fn, {x.clone().set_requires_grad(), w.clone().set_requires_grad()});
    CHECK(tg::gradgradcheck(fn, {x.clone().set_requires_grad(), w.clone().set_requires_grad()}).ok);
  }
}

TEST_CASE("the tensor takes the new history: its grad_fn is replaced") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * 3.0;
  const std::string before = tg::autograd::format_tape(y);
  y.relu_();
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  CHECK(tg::autograd::format_tape(y) != before);
  y.sum().backward();
  TG_CHECK_VALUES(x.grad(), {3, 3});
}

TEST_CASE("a saved tensor overwritten by a recorded in-place op is refused by its backward") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * 1.0;
  Tensor z = y * y;  // saves y
  y.add_(1.0);       // recorded, bumps y's version
  const std::string message = tg::testing::error_message([&] { z.sum().backward(); });
  CAPTURE(message);
  CHECK(tg::testing::contains(message, "'mul'"));
  CHECK(tg::testing::contains(message, "modified by an inplace operation"));
  CHECK(tg::testing::contains(message, "version 1"));
  SUBCASE("the same through a view: the counter is one per storage") {
    Tensor a = x * 1.0;
    Tensor b = a.exp();  // saves its output, not a
    Tensor c = a * a;    // saves a
    a[0].mul_(2.0);
    CHECK(a.version() == 1);
    b.sum().backward();  // exp reads only its own output: fine
    CHECK_THROWS_AS(c.sum().backward(), tg::Error);
  }
}

TEST_CASE("under NoGradGuard any in-place write is allowed and only bumps the version") {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = x * 3.0;
  Tensor h = tg::tanh(x);
  {
    tg::NoGradGuard no_grad;
    y.mul_(2.0);
    h.zero_();
    x.add_(1.0);  // even a leaf that requires grad
  }
  TG_CHECK_VALUES(y, {6, 12});
  TG_CHECK_VALUES(h, {0, 0});
  TG_CHECK_VALUES(x, {2, 3});
  CHECK(y.version() == 1);
  y.sum().backward();  // the history is the one before the write, as PyTorch's
  TG_CHECK_VALUES(x.grad(), {3, 3});
  const std::string message = tg::testing::error_message([&] { h.sum().backward(); });
  CHECK(tg::testing::contains(message, "'tanh'"));  // tanh saved the output zero_ overwrote
}

TEST_CASE("a leaf that requires grad, or a view of one, refuses in-place ops outside NoGradGuard") {
  Tensor w = leaf({1, 2, 3}, {3});
  TG_CHECK_ERROR(w.mul_(2.0), "mul_", "leaf Variable that requires grad");
  TG_CHECK_ERROR(w[0].add_(1.0), "add_", "view of a leaf Variable");
  TG_CHECK_ERROR(w.narrow(0, 1, 2).relu_(), "relu_", "view of a leaf Variable");
  TG_CHECK_ERROR(w.exp_(), "exp_", "leaf Variable");
  TG_CHECK_VALUES(w, {1, 2, 3});
}

TEST_CASE("t[i] = value fills and t[i] = tensor copies with broadcasting, into the base") {
  Tensor w = tg::zeros({3, 3});
  w[1] = tg::ones({3});
  w[0] = 2.5;
  w[2] = tg::tensor({7.0});  // broadcast [1] -> [3]
  TG_CHECK_VALUES(w, {2.5, 2.5, 2.5, 1, 1, 1, 7, 7, 7});
  w.t()[0] = tg::tensor({-1.0, -2.0, -3.0});  // the first column
  TG_CHECK_VALUES(w, {-1, 2.5, 2.5, -2, 1, 1, -3, 7, 7});
  Tensor named = w[0];
  named = tg::ones({3});  // assigning to a named handle rebinds it, as libtorch
  TG_CHECK_VALUES(w.select(0, 0), {-1, 2.5, 2.5});
  TG_CHECK_ERROR(w[1] = tg::ones({2}), "copy_", "[2]", "[3]");
}

TEST_CASE("compound assignment is add_, sub_, mul_ and div_") {
  Tensor t = constant({1, 2, 3}, {3});
  t += constant({1, 1, 1}, {3});
  t *= 2.0;
  t -= 1;
  t /= constant({1, 2, 4}, {3});
  TG_CHECK_VALUES(t, {3, 2.5, 1.75});
  Tensor i = tg::arange(3);
  i += 2;
  i *= 3;
  CHECK(i.dtype() == tg::i64);
  TG_CHECK_VALUES(i, {6, 9, 12});
  TG_CHECK_ERROR(i /= 2, "div_", "i64");
  Tensor m = constant({1, 2, 3, 4}, {2, 2});
  m[1] += 10.0;
  TG_CHECK_VALUES(m, {1, 2, 13, 14});
}

TEST_CASE("index_put_ writes or accumulates values at index tensors, as PyTorch's") {
  Tensor t = tg::zeros({3, 2}, {.dtype = tg::f64});
  const Tensor rows = tg::tensor(std::vector<int64_t>{2, 0, 2}, {3});
  t.index_put_({rows}, constant({1, 2, 3, 4, 5, 6}, {3, 2}), true);
  TG_CHECK_VALUES(t, {3, 4, 0, 0, 6, 8});
  t.index_put_(
      {tg::tensor(std::vector<int64_t>{1, -1}, {2}), tg::tensor(std::vector<int64_t>{0, 1}, {2})},
      constant({9}, {1}));
  TG_CHECK_VALUES(t, {3, 4, 9, 0, 6, 9});
  TG_CHECK_ERROR(t.index_put_({tg::tensor(std::vector<int64_t>{3}, {1})}, constant({1}, {1})),
                 "index_put_", "out of range", "[3, 2]");
  TG_CHECK_ERROR(t.index_put_({tg::arange(2).to(tg::f64)}, constant({1}, {1})), "index_put_",
                 "i64");
  TG_CHECK_ERROR(t.index_put_({rows}, constant({1, 2, 3}, {3})), "index_put_", "[3]", "[3, 2]");
}

TEST_CASE("masked_fill and masked_fill_") {
  const Tensor a = constant({1, 2, 3, 4}, {2, 2});
  const Tensor mask = tg::tensor({1.0, 0.0}, {.dtype = tg::f64});
  TG_CHECK_VALUES(a.masked_fill(mask, -1.0), {-1, 2, -1, 4});
  Tensor b = a.clone();
  b.masked_fill_(tg::gt(b, 2.5), 0.0);
  TG_CHECK_VALUES(b, {1, 2, 0, 0});
  TG_CHECK_ERROR(a.masked_fill(constant({1, 0, 1}, {3}), 0.0), "masked_fill", "[3]", "[2, 2]");
  TG_CHECK_GRADCHECK(
      [&](const std::vector<Tensor>& in) { return in[0].masked_fill(mask, 5.0) * in[0]; },
      {a.clone().set_requires_grad()});
}

TEST_CASE("tril, triu, diag, diag_embed and tril_indices") {
  const Tensor m = constant({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  TG_CHECK_VALUES(tg::tril(m), {1, 0, 0, 4, 5, 0, 7, 8, 9});
  TG_CHECK_VALUES(tg::tril(m, -1), {0, 0, 0, 4, 0, 0, 7, 8, 0});
  TG_CHECK_VALUES(tg::triu(m), {1, 2, 3, 0, 5, 6, 0, 0, 9});
  TG_CHECK_VALUES(tg::triu(m, 1), {0, 2, 3, 0, 0, 6, 0, 0, 0});
  TG_CHECK_VALUES(tg::diag(m), {1, 5, 9});
  TG_CHECK_VALUES(tg::diag(m, 1), {2, 6});
  TG_CHECK_VALUES(tg::diag(m, -2), {7});
  const Tensor v = constant({1, 2}, {2});
  TG_CHECK_VALUES(tg::diag(v), {1, 0, 0, 2});
  TG_CHECK_VALUES(tg::diag(v, 1), {0, 1, 0, 0, 0, 2, 0, 0, 0});
  CHECK(tg::diag(v, -1).shape() == Shape{3, 3});
  TG_CHECK_VALUES(tg::diag(v, -1), {0, 0, 0, 1, 0, 0, 0, 2, 0});
  TG_CHECK_VALUES(tg::diag_embed(constant({1, 2, 3, 4}, {2, 2})), {1, 0, 0, 2, 3, 0, 0, 4});
  CHECK(tg::diag_embed(constant({1, 2, 3, 4}, {2, 2})).shape() == Shape{2, 2, 2});
  const Tensor idx = tg::tril_indices(3, 3);
  CHECK(idx.dtype() == tg::i64);
  TG_CHECK_VALUES(idx, {0, 1, 1, 2, 2, 2, 0, 0, 1, 0, 1, 2});
  TG_CHECK_VALUES(tg::tril_indices(2, 3, 1), {0, 0, 1, 1, 1, 0, 1, 0, 1, 2});
  TG_CHECK_ERROR(tg::tril(v), "tril", "[2]");
  TG_CHECK_ERROR(tg::diag(constant({1}, {1, 1, 1})), "diag", "[1, 1, 1]");
  for (auto fn :
       {std::function<Tensor(const Tensor&)>([](const Tensor& t) { return tg::tril(t, 0); }),
        std::function<Tensor(const Tensor&)>([](const Tensor& t) { return tg::triu(t, -1); }),
        std::function<Tensor(const Tensor&)>([](const Tensor& t) { return tg::diag(t, 1); }),
        std::function<Tensor(const Tensor&)>([](const Tensor& t) { return tg::diag_embed(t); })}) {
    TG_CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return fn(in[0]) * fn(in[0]); },
                       {tg::randn({3, 3}, {.dtype = tg::f64}).set_requires_grad()});
  }
  TG_CHECK_GRADCHECK([](const std::vector<Tensor>& in) { return tg::diag(in[0], -1); },
                     {tg::randn({3}, {.dtype = tg::f64}).set_requires_grad()});
}

TEST_CASE(
    "tensor(std::vector<int64_t>, Shape) makes an index tensor; braced doubles stay floating") {
  const Tensor i = tg::tensor(std::vector<int64_t>{3, -1, 4}, {3});
  CHECK(i.dtype() == tg::i64);
  CHECK(i.shape() == Shape{3});
  CHECK(i.data<int64_t>()[1] == -1);
  const std::vector<int64_t> big = {(int64_t{1} << 60) + 1, 2};
  CHECK(tg::tensor(big, {2, 1}).data<int64_t>()[0] == (int64_t{1} << 60) + 1);  // exact
  CHECK(tg::tensor({0.5, -1.0, 2.0}, {3}).dtype() == tg::f32);
  CHECK(tg::tensor({0.5, -1.0}, {2}, {.dtype = tg::f64}).dtype() == tg::f64);
  TG_CHECK_ERROR(tg::tensor(std::vector<int64_t>{1, 2}, {3}), "tensor", "[3]");
}
