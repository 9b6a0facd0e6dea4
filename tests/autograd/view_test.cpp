// Strided views: which ops share storage with their input, that writes through each land in the
// base, the shared version counter, and that every op gives on a non-contiguous input what it
// gives on a contiguous copy (values and gradients).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <tapegrad/autograd.hpp>
#include <tapegrad/autograd/loss.hpp>
#include <vector>

#include "../support/testing.hpp"
#include "unary_ops.hpp"

using tg::Shape;
using tg::Tensor;
using tg::testing::constant;
using tg::testing::leaf;

namespace {

// 0, 1, ..., n-1 in `shape`, f64: every element names its own position in the base.
Tensor numbered(const Shape& shape) {
  return tg::arange(tg::shape_numel(shape), {.dtype = tg::f64}).reshape(shape).clone();
}

struct ViewOp {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;  // applied to a [2, 3, 4] base
};

const std::vector<ViewOp>& view_ops() {
  static const std::vector<ViewOp> table = {
      {"select", [](const Tensor& b) { return b.select(1, 2); }},
      {"operator[]", [](const Tensor& b) { return b[1]; }},
      {"narrow", [](const Tensor& b) { return b.narrow(2, 1, 2); }},
      {"slice step 2", [](const Tensor& b) { return b.slice(2, 0, 4, 2); }},
      {"slice step 1", [](const Tensor& b) { return b.slice(1, 1, 3); }},
      {"transpose", [](const Tensor& b) { return b.transpose(0, 2); }},
      {"t", [](const Tensor& b) { return b[0].t(); }},
      {"permute",
       [](const Tensor& b) {
         return b.permute({2, 0, 1});
       }},
      {"diagonal", [](const Tensor& b) { return b.diagonal(0, 1, 2); }},
      {"diagonal offset", [](const Tensor& b) { return b.diagonal(1, 1, 2); }},
      {"split", [](const Tensor& b) { return tg::split(b, 3, 2)[1]; }},
      {"chunk", [](const Tensor& b) { return tg::chunk(b, 2, 1)[0]; }},
      {"unbind", [](const Tensor& b) { return b.unbind(2)[3]; }},
      {"view",
       [](const Tensor& b) {
         return b.view({6, 4});
       }},
      {"reshape",
       [](const Tensor& b) {
         return b.reshape({4, 6});
       }},
      {"flatten", [](const Tensor& b) { return b.flatten(1); }},
      {"squeeze", [](const Tensor& b) { return b.narrow(0, 1, 1).squeeze(0); }},
      {"unsqueeze", [](const Tensor& b) { return b.unsqueeze(1); }},
      {"detach", [](const Tensor& b) { return b.detach(); }},
      {"as_strided",
       [](const Tensor& b) {
         return b.as_strided({2, 2}, {12, 5}, 1);
       }},
      {"view of a transpose", [](const Tensor& b) { return b.transpose(1, 2).select(0, 1); }},
      {"reshape of a slice", [](const Tensor& b) { return b.select(0, 1).reshape({12}); }},
  };
  return table;
}

}  // namespace

TEST_CASE("a write through every view op lands in the base, under one version counter") {
  for (const ViewOp& op : view_ops()) {
    const std::string name = op.name;
    CAPTURE(name);
    Tensor base = numbered({2, 3, 4});
    Tensor view = op.fn(base);
    // The base's elements the view shows, by value (each base element holds its position).
    std::vector<double> shown = view.to_vector();
    std::vector<double> expected = base.to_vector();
    for (double v : shown) expected[static_cast<size_t>(v)] += 100.0;
    const uint64_t version = base.version();
    view.add_(100.0);
    CHECK(base.version() == version + 1);
    CHECK(view.version() == base.version());
    TG_CHECK_VALUES(base, expected);
    base.zero_();  // and the other way round: the view sees writes into the base
    const std::vector<double> after = view.to_vector();
    CHECK(std::all_of(after.begin(), after.end(), [](double v) { return v == 0.0; }));
  }
}

TEST_CASE("views read the elements PyTorch's do") {
  const Tensor b = numbered({2, 3, 4});
  TG_CHECK_VALUES(b.select(1, 2), {8, 9, 10, 11, 20, 21, 22, 23});
  TG_CHECK_VALUES(b.transpose(0, 2).select(0, 1), {1, 13, 5, 17, 9, 21});
  TG_CHECK_VALUES(b.slice(2, 0, 4, 2).select(0, 0), {0, 2, 4, 6, 8, 10});
  TG_CHECK_VALUES(b.slice(2, 1, 4, 2).select(0, 1), {13, 15, 17, 19, 21, 23});
  TG_CHECK_VALUES(b.diagonal(0, 1, 2), {0, 5, 10, 12, 17, 22});
  TG_CHECK_VALUES(b.diagonal(1, 1, 2), {1, 6, 11, 13, 18, 23});
  TG_CHECK_VALUES(b.diagonal(-1, 1, 2), {4, 9, 16, 21});
  TG_CHECK_VALUES(b.permute({2, 0, 1}).select(0, 3), {3, 7, 11, 15, 19, 23});
  TG_CHECK_VALUES(b.as_strided({2, 2}, {12, 5}, 1), {1, 6, 13, 18});
  TG_CHECK_VALUES(b[1].t().select(0, 2), {14, 18, 22});
  TG_CHECK_VALUES(b.select(2, 0).unsqueeze(1).expand({2, 2, 3}).select(1, 1),
                  {0, 4, 8, 12, 16, 20});
  CHECK(b.diagonal(0, 1, 2).shape() == Shape{2, 3});
  CHECK(b.diagonal(5, 1, 2).numel() == 0);
}

TEST_CASE("a copy of a view reads each element at its own offset, whatever dims can merge") {
  // Views whose dims a strided copy may merge (size-1 dims, runs of dims that step as one) or
  // must not (a gap, a transposed pair, a broadcast dim beside a real one). The expected value
  // of each element is its offset in the base, summed from the view's own strides here.
  const Tensor base = numbered({4, 1, 6});
  const std::vector<Tensor> views = {
      base.slice(2, 0, 6, 2),                            // a gap in the last dim
      base.transpose(0, 2),                              // [6, 1, 4]
      base.select(2, 1).expand({4, 3}),                  // a column broadcast sideways
      base.select(2, 5).unsqueeze(0).expand({2, 4, 1}),  // [2, 4, 1], the first dim 0
      base.narrow(0, 1, 2),                              // contiguous rows, an offset
      base.permute({1, 0, 2}).slice(1, 0, 4, 3),         // size-1 first, step 3 rows
      base.as_strided({3, 2, 2}, {6, 1, 0}, 2),          // a trailing broadcast dim
      base.as_strided({2, 1, 3, 1}, {12, 7, 2, 5}, 1)};  // size-1 dims between others
  for (const Tensor& view : views) {
    const Shape shape = view.shape(), strides = view.strides();
    CAPTURE(tg::format_shape(shape));
    CAPTURE(tg::format_shape(strides));
    std::vector<double> expected;
    std::vector<int64_t> index(shape.size(), 0);
    for (int64_t n = 0; n < view.numel(); ++n) {
      int64_t offset = view.storage_offset();
      for (size_t d = 0; d < shape.size(); ++d) offset += index[d] * strides[d];
      expected.push_back(static_cast<double>(offset));
      for (size_t d = shape.size(); d-- > 0;) {  // the next index, row-major
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
    CHECK(view.contiguous().to_vector() == expected);
  }
}

TEST_CASE("strides, storage_offset and is_contiguous describe the view") {
  const Tensor b = numbered({2, 3, 4});
  CHECK(b.strides() == Shape{12, 4, 1});
  CHECK(b.storage_offset() == 0);
  CHECK(b.is_contiguous());
  const Tensor t = b.transpose(1, 2);
  CHECK(t.strides() == Shape{12, 1, 4});
  CHECK_FALSE(t.is_contiguous());
  CHECK(b.select(0, 1).storage_offset() == 12);
  CHECK(b.select(0, 1).is_contiguous());
  CHECK(b.narrow(2, 1, 2).storage_offset() == 1);
  CHECK_FALSE(b.narrow(2, 1, 2).is_contiguous());
  CHECK(b.slice(2, 1, 4, 2).strides() == Shape{12, 4, 2});
  CHECK(b.select(2, 0).unsqueeze(2).expand({2, 3, 5}).strides()[2] == 0);
  const Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.strides() == Shape{12, 3, 1});
  TG_CHECK_VALUES(c.select(0, 0).select(0, 1), {1, 5, 9});
  CHECK(b.contiguous().impl() == b.impl());  // itself when already contiguous
}

TEST_CASE("data<T>() needs a contiguous tensor; view() needs compatible strides") {
  Tensor b = numbered({3, 4});
  TG_CHECK_ERROR(b.t().data<double>(), "data<double>()", "non-contiguous", "contiguous()");
  CHECK(b[1].data<double>()[0] == 4.0);  // a contiguous view points at its first element
  TG_CHECK_ERROR(b.t().view({12}), "view", "[12]", "reshape");
  const Tensor r = b.t().reshape({12});  // a copy, since no strides can read it
  TG_CHECK_VALUES(r, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  b.fill_(1.0);
  CHECK(r.to_vector()[0] == 0.0);  // ... so it does not see the write
  TG_CHECK_ERROR(b.as_strided({4, 4}, {4, 1}, 0), "as_strided", "15");
  TG_CHECK_ERROR(b.as_strided({2}, {1, 1}, 0), "as_strided", "one stride per size");
}

TEST_CASE("writes into a tensor with an expanded dim are refused, as PyTorch's") {
  Tensor e = tg::zeros({3}).unsqueeze(0).expand({2, 3});
  TG_CHECK_ERROR(e.add_(1.0), "add_", "single memory location");
}

TEST_CASE("every elementwise op of the table gives on a transposed input what it gives on a copy") {
  tg::manual_seed(7);
  for (const tg::testing::UnaryOp& op : tg::testing::unary_ops()) {
    const std::string label = op.label;
    CAPTURE(label);
    const Tensor x = (tg::rand({3, 4}, {.dtype = tg::f64}) * (op.hi - op.lo) + op.lo).detach();
    const Tensor strided = x.t();
    REQUIRE_FALSE(strided.is_contiguous());
    // The contiguous copy, built by hand: element (i, j) of x.t() is x[j][i].
    std::vector<double> xs = x.to_vector(), copy;
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 3; ++j) copy.push_back(xs[static_cast<size_t>(j * 4 + i)]);
    const Tensor dense = tg::tensor(copy, {4, 3}, {.dtype = tg::f64});
    TG_CHECK_VALUES(op.fn(strided), op.fn(dense).to_vector());
    if (op.kinked) continue;
    TG_CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return op.fn(in[0].t()); },
                       {x.clone().set_requires_grad()});
  }
}

namespace {

// Ops of one or two tensors, applied to a strided [3, 4] f64 input (and a matching second one).
struct StridedCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
  bool differentiable = true;
};

const std::vector<StridedCase>& strided_cases() {
  static const std::vector<StridedCase> table = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }},
      {"div", [](const Tensor& a, const Tensor& b) { return a / (b * b + 1.0); }},
      {"add broadcast", [](const Tensor& a, const Tensor& b) { return a + b.select(0, 1); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return tg::maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return tg::minimum(a, b); }},
      {"where", [](const Tensor& a, const Tensor& b) { return tg::where(tg::gt(a, b), a, b); }},
      {"gt", [](const Tensor& a, const Tensor& b) { return tg::gt(a, b); }, false},
      {"sum", [](const Tensor& a, const Tensor&) { return a.sum(); }},
      {"sum dim", [](const Tensor& a, const Tensor&) { return a.sum(1); }},
      {"mean dim", [](const Tensor& a, const Tensor&) { return a.mean(0, true); }},
      {"max", [](const Tensor& a, const Tensor&) { return a.max(); }},
      {"max dim", [](const Tensor& a, const Tensor&) { return a.max(1); }},
      {"min dim", [](const Tensor& a, const Tensor&) { return a.min(0); }},
      {"argmax", [](const Tensor& a, const Tensor&) { return a.argmax(1); }, false},
      {"prod", [](const Tensor& a, const Tensor&) { return a.prod(); }},
      {"var", [](const Tensor& a, const Tensor&) { return a.var(1); }},
      {"std", [](const Tensor& a, const Tensor&) { return a.std(); }},
      {"norm", [](const Tensor& a, const Tensor&) { return a.norm(); }},
      {"norm 3", [](const Tensor& a, const Tensor&) { return a.norm(3.0); }},
      {"cumsum", [](const Tensor& a, const Tensor&) { return tg::cumsum(a, 1); }},
      {"softmax", [](const Tensor& a, const Tensor&) { return a.softmax(1); }},
      {"log_softmax", [](const Tensor& a, const Tensor&) { return a.log_softmax(0); }},
      {"logsumexp", [](const Tensor& a, const Tensor&) { return a.logsumexp(1); }},
      {"matmul", [](const Tensor& a, const Tensor& b) { return tg::matmul(a, b.t()); }},
      {"matmul vector",
       [](const Tensor& a, const Tensor& b) { return tg::matmul(a, b.select(0, 0)); }},
      {"linear", [](const Tensor& a, const Tensor& b) { return tg::linear(a, b, b.select(1, 2)); }},
      {"linear_relu",
       [](const Tensor& a, const Tensor& b) { return tg::linear_relu(a, b, b.select(1, 2)); }},
      {"cat",
       [](const Tensor& a, const Tensor& b) {
         return tg::cat({a, b}, 1);
       }},
      {"stack",
       [](const Tensor& a, const Tensor& b) {
         return tg::stack({a, b}, 0);
       }},
      {"index_select",
       [](const Tensor& a, const Tensor&) {
         return a.index_select(1, tg::tensor(std::vector<int64_t>{2, 0, 2}, {3}));
       }},
      {"gather",
       [](const Tensor& a, const Tensor&) {
         return a.gather(1, tg::tensor(std::vector<int64_t>{1, 0, 2, 2, 1, 0, 0, 0}, {4, 2}));
       }},
      {"scatter_add",
       [](const Tensor& a, const Tensor& b) {
         return tg::scatter_add(a, 0, tg::tensor(std::vector<int64_t>{0, 2, 1}, {1, 3}),
                                b.narrow(0, 0, 1));
       }},
      {"clone", [](const Tensor& a, const Tensor&) { return a.clone(); }},
      {"to f32 and back", [](const Tensor& a, const Tensor&) { return a.to(tg::f32).to(tg::f64); },
       false},  // values only: f32 rounding defeats finite differences
      {"reshape (a copy)",
       [](const Tensor& a, const Tensor&) {
         return a.reshape({2, 6});
       }},
      {"broadcast_to",
       [](const Tensor& a, const Tensor&) {
         return tg::broadcast_to(a, {2, 4, 3});
       }},
      {"sum_to",
       [](const Tensor& a, const Tensor&) {
         return tg::sum_to(a, {1, 3});
       }},
      {"layer_norm",
       [](const Tensor& a, const Tensor& b) {
         return tg::layer_norm(a, {3}, b.select(0, 0), b.select(0, 1));
       }},
      {"batch_norm",
       [](const Tensor& a, const Tensor& b) {
         return tg::batch_norm(a, {}, {}, b.select(0, 0), b.select(0, 1), true);
       }},
      {"cross_entropy",
       [](const Tensor& a, const Tensor&) {
         return tg::cross_entropy(a, tg::tensor(std::vector<int64_t>{0, 2, 1, 1}, {4}),
                                  {.weight = tg::tensor({0.5, 1.0, 2.0}, {.dtype = tg::f64}),
                                   .ignore_index = -100,
                                   .reduction = tg::Reduction::mean,
                                   .label_smoothing = 0.1});
       }},
      {"nll_loss",
       [](const Tensor& a, const Tensor&) {
         return tg::nll_loss(a.log_softmax(1), tg::tensor(std::vector<int64_t>{2, 2, 0, 1}, {4}),
                             {.weight = {}, .ignore_index = -100, .reduction = tg::Reduction::sum});
       }},
      {"binary_cross_entropy",
       [](const Tensor& a, const Tensor& b) {
         return tg::binary_cross_entropy(a.sigmoid(), b.sigmoid(), tg::Reduction::none);
       }},
      {"binary_cross_entropy_with_logits",
       [](const Tensor& a, const Tensor& b) {
         return tg::binary_cross_entropy_with_logits(a, b.sigmoid(), tg::Reduction::none);
       }},
      {"mse_loss",
       [](const Tensor& a, const Tensor& b) { return tg::mse_loss(a, b, tg::Reduction::none); }},
      {"masked_fill",
       [](const Tensor& a, const Tensor& b) { return a.masked_fill(tg::gt(b, 0.0), 2.0); }},
      {"tril", [](const Tensor& a, const Tensor&) { return tg::tril(a, -1); }},
      {"triu", [](const Tensor& a, const Tensor&) { return tg::triu(a); }},
      {"diag", [](const Tensor& a, const Tensor&) { return tg::diag(a, 1); }},
      {"diag_embed", [](const Tensor& a, const Tensor&) { return tg::diag_embed(a); }},
  };
  return table;
}

}  // namespace

TEST_CASE("every op gives on non-contiguous inputs what it gives on contiguous copies") {
  tg::manual_seed(11);
  for (const StridedCase& c : strided_cases()) {
    const std::string name = c.name;
    CAPTURE(name);
    // [4, 3] tensors read through transposes of [3, 4] storage.
    const Tensor a_storage = tg::randn({3, 4}, {.dtype = tg::f64});
    const Tensor b_storage = tg::randn({3, 4}, {.dtype = tg::f64});
    const Tensor a = a_storage.t(), b = b_storage.t();
    REQUIRE_FALSE(a.is_contiguous());
    auto dense = [](const Tensor& t) {  // the copy by hand: element (i, j) is storage (j, i)
      std::vector<double> values;
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 3; ++j)
          values.push_back(t.to_vector()[static_cast<size_t>(j * 4 + i)]);
      return tg::tensor(values, {4, 3}, {.dtype = tg::f64});
    };
    const Tensor expected = c.fn(dense(a_storage), dense(b_storage));
    const Tensor got = c.fn(a, b);
    CHECK(got.shape() == expected.shape());
    TG_CHECK_VALUES(got, expected.to_vector());
    if (!c.differentiable) continue;
    TG_CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& in) { return c.fn(in[0].t(), in[1].t()); },
        {a_storage.clone().set_requires_grad(), b_storage.clone().set_requires_grad()});
    // A non-contiguous leaf itself (gradcheck perturbs it through its strides).
    TG_CHECK_GRADCHECK([&](const std::vector<Tensor>& in) { return c.fn(in[0], in[1]); },
                       {a_storage.clone().t().detach().set_requires_grad(),
                        b_storage.clone().t().detach().set_requires_grad()});
  }
}

TEST_CASE("the backward of every view op is right, on contiguous and strided inputs") {
  tg::manual_seed(3);
  for (const ViewOp& op : view_ops()) {
    const std::string name = op.name;
    CAPTURE(name);
    if (name == "detach") continue;  // no gradient flows through it
    const Tensor x = tg::randn({2, 3, 4}, {.dtype = tg::f64});
    const Tensor w = tg::randn(op.fn(x).shape(), {.dtype = tg::f64});
    auto fn = [&](const std::vector<Tensor>& in) { return (op.fn(in[0]) * w).sum(); };
    TG_CHECK_GRADCHECK(fn, {x.clone().set_requires_grad()});
    CHECK(tg::gradgradcheck(
              [&](const std::vector<Tensor>& in) { return (op.fn(in[0]) * op.fn(in[0])).sum(); },
              {x.clone().set_requires_grad()})
              .ok);
    // The same view of a strided tensor: x read through a permutation of its storage.
    const Tensor storage = tg::randn({4, 2, 3}, {.dtype = tg::f64});
    TG_CHECK_GRADCHECK(
        [&](const std::vector<Tensor>& in) {
          return (op.fn(in[0].permute({1, 2, 0})) * w).sum();
        },
        {storage.clone().set_requires_grad()});
  }
  // expand and broadcast_to, whose backward sums.
  TG_CHECK_GRADCHECK(
      [](const std::vector<Tensor>& in) {
        return (in[0].unsqueeze(0).expand({3, 2, 4}) * 1.5).sum();
      },
      {tg::randn({2, 4}, {.dtype = tg::f64}).set_requires_grad()});
}
