// Scalars and tensors of a few elements share their values as larger tensors do: views and
// detached copies see each other's writes and share the version counter, outlive the tensor
// they came from, and set_data and backward's taking of a gradient as .grad() neither lose nor
// alias values. Each case runs on both sides of 16 bytes, the size below which a tensor is a
// candidate for keeping its values in its own allocation (an optimisation that must pass these
// and memory_test's graphs of scalars); the sanitizer builds catch a view reading freed values.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <tapegrad/autograd.hpp>
#include <vector>

#include "../support/testing.hpp"

using tg::Tensor;

namespace {

struct Case {
  int64_t numel;
  tg::DType dtype;
};

// 1, 2 and 4 elements of 4 or 8 bytes fit in 16 bytes, 3 doubles and 5 floats do not.
const std::vector<Case>& sizes() {
  static const std::vector<Case> cases = {{1, tg::f64}, {2, tg::f64}, {3, tg::f64},
                                          {1, tg::f32}, {4, tg::f32}, {5, tg::f32},
                                          {1, tg::i64}, {2, tg::i64}, {3, tg::i64}};
  return cases;
}

std::string describe(const Case& c) {
  return std::to_string(c.numel) + " x " + std::string(tg::dtype_name(c.dtype));
}

// 10, 11, ..., in the case's dtype, as a fresh tensor of shape [numel].
Tensor numbered(const Case& c) {
  return (tg::arange(c.numel, {.dtype = tg::i64}) + 10).to(c.dtype).contiguous().clone();
}

// Where the tensor's first element is (every sharing op below gives a contiguous tensor).
const void* first_element(const Tensor& t) {
  switch (t.dtype()) {
    case tg::f32:
      return t.data<float>();
    case tg::f64:
      return t.data<double>();
    default:
      return t.data<int64_t>();
  }
}

tg::Shape row_shape(const Tensor& t) { return tg::Shape{1, t.numel()}; }
tg::Shape column_shape(const Tensor& t) { return tg::Shape{t.numel(), 1}; }

struct Sharing {
  const char* name;
  std::function<Tensor(const Tensor&)> share;  // of a [numel] tensor, every element reachable
};

const std::vector<Sharing>& sharings() {
  static const std::vector<Sharing> table = {
      {"view", [](const Tensor& t) { return t.view(row_shape(t)); }},
      {"reshape", [](const Tensor& t) { return t.reshape(column_shape(t)); }},
      {"unsqueeze", [](const Tensor& t) { return t.unsqueeze(0); }},
      {"flatten", [](const Tensor& t) { return t.unsqueeze(1).flatten(); }},
      {"narrow", [](const Tensor& t) { return t.narrow(0, 0, t.numel()); }},
      {"slice", [](const Tensor& t) { return t.slice(0, 0, t.numel()); }},
      {"as_strided", [](const Tensor& t) { return t.as_strided({t.numel()}, {1}); }},
      {"transpose", [](const Tensor& t) { return t.unsqueeze(1).transpose(0, 1); }},
      {"detach", [](const Tensor& t) { return t.detach(); }},
      {"view of a view", [](const Tensor& t) { return t.unsqueeze(0).squeeze(0).view({-1}); }},
  };
  return table;
}

}  // namespace

TEST_CASE("a tiny tensor's values are shared as a buffer is, by every sharing op") {
  for (const Case& c : sizes())
    for (const Sharing& s : sharings()) {
      CAPTURE(describe(c));
      CAPTURE(s.name);
      Tensor base = numbered(c);
      Tensor shared = s.share(base);
      CHECK(first_element(shared) == first_element(base));
      const std::vector<double> before = base.to_vector();

      shared.add_(1);  // a write through the sharing tensor lands in the base
      for (int64_t i = 0; i < c.numel; ++i) CHECK(base[i].item() == before[size_t(i)] + 1);
      CHECK(shared.version() == base.version());

      base.mul_(2);  // and one into the base is seen through it
      CHECK(shared.version() == base.version());
      const Tensor shared_flat = shared.reshape({-1});
      for (int64_t i = 0; i < c.numel; ++i)
        CHECK(shared_flat[i].item() == (before[size_t(i)] + 1) * 2);

      base = Tensor();  // the sharing tensor keeps the values alive on its own
      shared.add_(3);
      const Tensor flat = shared.reshape({-1});
      for (int64_t i = 0; i < c.numel; ++i)
        CHECK(flat[i].item() == (before[size_t(i)] + 1) * 2 + 3);
    }
}

TEST_CASE("a tiny tensor's values reached only through a chain of sharing tensors stay alive") {
  for (const Case& c : sizes()) {
    CAPTURE(describe(c));
    Tensor outer;
    {
      const Tensor base = numbered(c);
      outer = base.detach().unsqueeze(0).view({c.numel}).detach();
    }
    outer.add_(1);
    for (int64_t i = 0; i < c.numel; ++i) CHECK(outer[i].item() == double(10 + i + 1));
  }
}

TEST_CASE("set_data on a tiny tensor: its old views keep the old values, and it may take its own") {
  for (const Case& c : sizes()) {
    CAPTURE(describe(c));
    SUBCASE("from another tensor") {
      Tensor x = numbered(c);
      const Tensor old_view = x.unsqueeze(0);
      const Tensor other = numbered(c).mul_(3);
      x.set_data(other);
      CHECK(first_element(x) == first_element(other));
      x.add_(1);
      for (int64_t i = 0; i < c.numel; ++i) {
        CHECK(old_view[0][i].item() == double(10 + i));  // untouched by writes into x now
        CHECK(other[i].item() == double(3 * (10 + i) + 1));
      }
    }
    SUBCASE("from a view of itself (the tensor must not end up owning itself)") {
      Tensor x = numbered(c);
      x.set_data(x.unsqueeze(0));
      CHECK(x.shape() == tg::Shape{1, c.numel});
      x.add_(1);
      const Tensor flat = x.reshape({-1});
      for (int64_t i = 0; i < c.numel; ++i) CHECK(flat[i].item() == double(10 + i + 1));
    }
    SUBCASE("from itself") {
      Tensor x = numbered(c);
      const uint64_t version = x.version();
      x.set_data(x);
      CHECK(x.version() > version);
      CHECK(x[0].item() == 10.0);
    }
  }
}

TEST_CASE("backward takes a tiny gradient as .grad() only when nothing else holds its values") {
  SUBCASE("a gradient that shares its values with the caller's seed is copied") {
    for (const Case& c : sizes()) {
      if (c.dtype == tg::i64) continue;
      CAPTURE(describe(c));
      const Tensor x = numbered(c).set_requires_grad();
      const Tensor y = x.reshape(row_shape(x));  // its backward hands on a view of the seed
      const Tensor seed = tg::ones(row_shape(x), {.dtype = c.dtype});
      y.backward(seed);
      x.grad().add_(5);
      for (int64_t i = 0; i < c.numel; ++i) {
        CHECK(x.grad()[i].item() == 6.0);
        CHECK(seed[0][i].item() == 1.0);
      }
    }
  }
  SUBCASE("one gradient reaching a leaf twice is summed, and a later backward adds to it") {
    const Tensor x = tg::testing::leaf({3.0}, {});
    (x + x).backward();
    CHECK(x.grad().item() == 2.0);
    (x * x).backward();  // accumulates into the first .grad()
    CHECK(x.grad().item() == 8.0);
  }
}
