// tg::Shape, the small vector of sizes and strides: inline up to six dimensions, on the heap past
// them, and the std::vector-like interface code written against the old Shape relies on.
#include <list>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "support/testing.hpp"

using tg::Shape;

namespace {

// Takes a Shape by reference, so that a call with a std::vector proves the implicit conversion.
size_t dims_of(const Shape& shape) { return shape.size(); }

std::vector<int64_t> as_vector(const Shape& shape) { return {shape.begin(), shape.end()}; }

}  // namespace

TEST_CASE("a Shape holds up to six dimensions inline and moves to the heap past them") {
  Shape s;
  CHECK(s.empty());
  CHECK(s.is_inline());
  for (int64_t d = 1; d <= 6; ++d) s.push_back(d * 10);
  CHECK(s.size() == 6);
  CHECK(s.is_inline());
  s.push_back(70);
  CHECK_FALSE(s.is_inline());
  CHECK(s.capacity() >= 7);
  CHECK(as_vector(s) == std::vector<int64_t>{10, 20, 30, 40, 50, 60, 70});
  for (int64_t d = 8; d <= 100; ++d) s.push_back(d * 10);
  REQUIRE(s.size() == 100);
  for (size_t i = 0; i < s.size(); ++i) CHECK(s[i] == static_cast<int64_t>(i + 1) * 10);
  CHECK(s.front() == 10);
  CHECK(s.back() == 1000);

  const Shape six{1, 2, 3, 4, 5, 6};
  CHECK(six.is_inline());
  const Shape seven{1, 2, 3, 4, 5, 6, 7};
  CHECK_FALSE(seven.is_inline());
  CHECK(seven.size() == 7);
  CHECK(seven[6] == 7);
}

TEST_CASE("copies of a Shape are independent, inline and on the heap") {
  for (const Shape& source : {Shape{2, 3}, Shape{1, 2, 3, 4, 5, 6, 7, 8}}) {
    CAPTURE(source);
    Shape copy(source);
    CHECK(copy == source);
    CHECK(copy.data() != source.data());
    copy[0] = 99;
    CHECK(source[0] != 99);
    Shape assigned{5};
    assigned = source;
    CHECK(assigned == source);
    assigned.push_back(-1);
    CHECK(assigned.size() == source.size() + 1);
    CHECK(assigned != source);
    // Assigning a short shape into one that went to the heap keeps its values right.
    Shape big{1, 2, 3, 4, 5, 6, 7, 8, 9};
    big = Shape{4};
    CHECK(big == Shape{4});
    const Shape& self = assigned;
    assigned = self;
    CHECK(assigned.size() == source.size() + 1);
  }
}

TEST_CASE("moving a Shape takes its heap block or copies its inline dimensions, and empties it") {
  Shape heap{1, 2, 3, 4, 5, 6, 7};
  const int64_t* block = heap.data();
  Shape taken(std::move(heap));
  CHECK(taken.data() == block);  // the block changed hands, nothing was copied
  CHECK(taken == Shape{1, 2, 3, 4, 5, 6, 7});
  CHECK(heap.empty());  // NOLINT(bugprone-use-after-move): a moved-from Shape is empty
  CHECK(heap.is_inline());
  heap.push_back(3);  // and usable again
  CHECK(heap == Shape{3});

  Shape small{4, 5};
  Shape moved(std::move(small));
  CHECK(moved == Shape{4, 5});
  CHECK(moved.is_inline());
  CHECK(small.empty());  // NOLINT(bugprone-use-after-move)

  Shape target{9, 9, 9, 9, 9, 9, 9, 9};  // on the heap: its block is freed by the assignment
  target = std::move(moved);
  CHECK(target == Shape{4, 5});
  CHECK(target.is_inline());
  target = std::move(taken);
  CHECK(target.data() == block);
  Shape& alias = target;
  target = std::move(alias);  // self-move leaves it as it was
  CHECK(target == Shape{1, 2, 3, 4, 5, 6, 7});

  Shape a{1, 2};
  Shape b{3, 4, 5, 6, 7, 8, 9};
  a.swap(b);
  CHECK(a == Shape{3, 4, 5, 6, 7, 8, 9});
  CHECK(b == Shape{1, 2});
}

TEST_CASE("a Shape compares equal by its dimensions, also against a std::vector") {
  CHECK(Shape{2, 3} == Shape{2, 3});
  CHECK(Shape{2, 3} != Shape{3, 2});
  CHECK(Shape{2, 3} != Shape{2, 3, 1});
  CHECK(Shape{} == Shape{});
  CHECK(Shape{} != Shape{0});
  CHECK(Shape{1, 2, 3, 4, 5, 6, 7} == Shape{1, 2, 3, 4, 5, 6, 7});
  CHECK(Shape{1, 2, 3, 4, 5, 6, 7} != Shape{1, 2, 3, 4, 5, 6, 8});
  CHECK(Shape{2, 3} == std::vector<int64_t>{2, 3});
  CHECK(std::vector<int64_t>{2, 3} == Shape{2, 3});
  CHECK(Shape{2, 3} != std::vector<int64_t>{2});
  CHECK(Shape{1, 2} < Shape{1, 3});
  CHECK(Shape{1, 2} < Shape{1, 2, 0});
  CHECK_FALSE(Shape{2} < Shape{1, 9});
}

TEST_CASE("a Shape converts from braced lists, std::vector, (count, value) and iterator ranges") {
  const std::vector<int64_t> v{4, 5, 6};
  CHECK(dims_of(v) == 3);  // std::vector converts implicitly
  CHECK(dims_of({1, 2}) == 2);
  const Shape from_vector = v;
  CHECK(from_vector == Shape{4, 5, 6});
  const std::vector<int64_t> back = from_vector;  // and back
  CHECK(back == v);
  CHECK(from_vector.vec() == v);
  const std::vector<int64_t> long_vector{1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(Shape(long_vector) == long_vector);

  CHECK(Shape(3, 1) == Shape{1, 1, 1});
  CHECK(Shape(size_t{8}, 2) == std::vector<int64_t>(8, 2));
  CHECK(Shape(size_t{2}) == Shape{0, 0});

  const std::list<int> list{7, 8, 9};  // a forward, not contiguous, range of another type
  CHECK(Shape(list.begin(), list.end()) == Shape{7, 8, 9});
  std::istringstream text("1 2 3 4 5 6 7 8");  // a single-pass range
  const Shape read{std::istream_iterator<int64_t>(text), std::istream_iterator<int64_t>()};
  CHECK(read == Shape{1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(Shape(v.rbegin(), v.rend()) == Shape{6, 5, 4});

  Shape assigned;
  assigned = {3, 2, 1};
  CHECK(assigned == Shape{3, 2, 1});
  assigned.assign(size_t{7}, 5);
  CHECK(assigned == std::vector<int64_t>(7, 5));
  assigned.assign(v.begin(), v.end());
  CHECK(assigned == v);
}

TEST_CASE("a Shape edits like a std::vector: insert, erase, resize, pop_back, at, reverse order") {
  Shape s{1, 2, 3, 4, 5};
  CHECK(*s.insert(s.begin() + 2, 9) == 9);
  CHECK(s == Shape{1, 2, 9, 3, 4, 5});
  s.insert(s.begin(), {7, 8});  // past six: onto the heap in the middle of an insert
  CHECK(s == Shape{7, 8, 1, 2, 9, 3, 4, 5});
  s.insert(s.end(), size_t{2}, 0);
  CHECK(s == Shape{7, 8, 1, 2, 9, 3, 4, 5, 0, 0});
  const std::vector<int64_t> more{6, 6};
  s.insert(s.begin() + 1, more.begin(), more.end());
  CHECK(s == Shape{7, 6, 6, 8, 1, 2, 9, 3, 4, 5, 0, 0});
  CHECK(*s.erase(s.begin()) == 6);
  CHECK(s == Shape{6, 6, 8, 1, 2, 9, 3, 4, 5, 0, 0});
  const int64_t* after = s.erase(s.begin() + 2, s.end());
  CHECK(after == s.end());
  CHECK(s == Shape{6, 6});
  s.erase(s.end() - 1);
  CHECK(s == Shape{6});
  s.resize(4);
  CHECK(s == Shape{6, 0, 0, 0});
  s.resize(9, 2);
  CHECK(s == Shape{6, 0, 0, 0, 2, 2, 2, 2, 2});
  s.resize(1);
  CHECK(s == Shape{6});
  s.pop_back();
  CHECK(s.empty());
  s.reserve(50);
  CHECK(s.capacity() >= 50);
  CHECK(s.empty());
  s.emplace_back(3);
  s.push_back(4);
  CHECK(s.at(1) == 4);
  CHECK_THROWS_AS(s.at(2), std::out_of_range);
  CHECK(std::vector<int64_t>(s.rbegin(), s.rend()) == std::vector<int64_t>{4, 3});
  s.clear();
  CHECK(s.empty());
}

TEST_CASE("a Shape prints as format_shape does") {
  std::ostringstream out;
  out << Shape{2, 3} << ' ' << Shape{};
  CHECK(out.str() == "[2, 3] []");
  CHECK(tg::format_shape(Shape{1, 2, 3, 4, 5, 6, 7}) == "[1, 2, 3, 4, 5, 6, 7]");
}

TEST_CASE("tensors of more than six dimensions keep working, with shapes and strides on the heap") {
  const Shape shape{2, 1, 3, 1, 2, 1, 2, 1};
  const tg::Tensor x = tg::arange(24, {.dtype = tg::f64}).reshape(shape);
  CHECK(x.shape() == shape);
  CHECK(x.dim() == 8);
  CHECK(x.numel() == 24);
  // Reversing the dims makes a strided view whose strides also have eight entries.
  const tg::Tensor p = x.permute({7, 6, 5, 4, 3, 2, 1, 0});
  CHECK(p.shape() == Shape{1, 2, 1, 2, 1, 3, 1, 2});
  // x's row-major strides are {12, 12, 4, 4, 2, 2, 1, 1}; p's are the same reversed.
  CHECK(p.strides() == Shape{1, 1, 2, 2, 4, 4, 12, 12});
  // p[0, 1, 0, 0, 0, 2, 0, 0] is x[0, 0, 2, 0, 0, 0, 1, 0] = 2 * 4 + 1 * 1, and sits at
  // 1 * 12 + 2 * 2 in p's row-major order (p's contiguous strides are {24, 12, 12, 6, 6, 2, 2, 1}).
  CHECK(p.contiguous().reshape({-1}).select(0, 16).item() == 9.0);
  CHECK(p.sum().item() == 276.0);
}
