// tg::Shape: a tensor's sizes (or strides), a small vector that keeps six dimensions inline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <iterator>
#include <vector>

namespace tg {

/// Sizes of each dimension, outermost first (empty for a 0-D tensor), or a tensor's strides: a
/// vector of int64_t that holds up to six dimensions without a heap allocation and converts from
/// braced lists and std::vector<int64_t>.
class Shape {
 public:
  using value_type = int64_t;
  using size_type = size_t;
  using difference_type = ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  /// The number of dimensions held inline; more go to the heap.
  static constexpr size_t inline_capacity = 6;

  /// No dimensions: the shape of a 0-D tensor.
  Shape() noexcept {}  // NOLINT: user-provided, so that Shape{} does not zero the inline array
  /// The dimensions of a braced list, `{2, 3}`.
  Shape(std::initializer_list<int64_t> dims) { append(dims.begin(), dims.size()); }
  /// The dimensions of a std::vector, implicitly, so that code written against the old
  /// `std::vector<int64_t>` Shape keeps compiling.
  Shape(const std::vector<int64_t>& dims)  // NOLINT(google-explicit-constructor)
  {
    append(dims.data(), dims.size());
  }
  /// `count` zeros.
  explicit Shape(size_t count) { resize(count); }
  /// `count` copies of `value`.
  Shape(size_t count, int64_t value) { resize(count, value); }
  /// The dimensions in [first, last).
  template <std::input_iterator It>
  Shape(It first, It last) {
    assign(first, last);
  }
  /// A copy of `other`'s dimensions.
  Shape(const Shape& other) { append(other.data_, other.size_); }
  /// Takes `other`'s dimensions (and its heap block, if any), leaving it empty.
  Shape(Shape&& other) noexcept { take(other); }
  ~Shape() {
    if (data_ != inline_) release();
  }

  Shape& operator=(const Shape& other) {
    if (this != &other) {
      size_ = 0;
      append(other.data_, other.size_);
    }
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      if (data_ != inline_) release();
      data_ = inline_;
      capacity_ = inline_capacity;
      take(other);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> dims) {
    size_ = 0;
    append(dims.begin(), dims.size());
    return *this;
  }

  /// The dimensions as a std::vector.
  std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }
  /// Converts to a std::vector, implicitly, for code written against the old Shape.
  operator std::vector<int64_t>() const { return vec(); }  // NOLINT(google-explicit-constructor)

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return capacity_; }
  /// True while the dimensions sit inside the object (no heap block).
  bool is_inline() const noexcept { return data_ == inline_; }

  int64_t* data() noexcept { return data_; }
  const int64_t* data() const noexcept { return data_; }
  int64_t& operator[](size_t i) noexcept { return data_[i]; }
  const int64_t& operator[](size_t i) const noexcept { return data_[i]; }
  /// Dimension `i`, throwing std::out_of_range past the end.
  int64_t& at(size_t i) {
    if (i >= size_) throw_out_of_range(i);
    return data_[i];
  }
  const int64_t& at(size_t i) const {
    if (i >= size_) throw_out_of_range(i);
    return data_[i];
  }
  int64_t& front() noexcept { return data_[0]; }
  const int64_t& front() const noexcept { return data_[0]; }
  int64_t& back() noexcept { return data_[size_ - 1]; }
  const int64_t& back() const noexcept { return data_[size_ - 1]; }

  iterator begin() noexcept { return data_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator cbegin() const noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator crbegin() const noexcept { return rbegin(); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }
  const_reverse_iterator crend() const noexcept { return rend(); }

  void clear() noexcept { size_ = 0; }
  /// Makes room for `count` dimensions without another allocation.
  void reserve(size_t count) {
    if (count > capacity_) grow(count);
  }
  void push_back(int64_t dim) {
    if (size_ == capacity_) grow(size_ + 1);
    data_[size_++] = dim;
  }
  int64_t& emplace_back(int64_t dim) {
    push_back(dim);
    return back();
  }
  void pop_back() noexcept { --size_; }
  /// Keeps the first `count` dimensions, or appends `value` up to `count`.
  void resize(size_t count, int64_t value = 0) {
    reserve(count);
    for (size_t i = size_; i < count; ++i) data_[i] = value;
    size_ = static_cast<uint32_t>(count);
  }
  void assign(size_t count, int64_t value) {
    size_ = 0;
    resize(count, value);
  }
  void assign(std::initializer_list<int64_t> dims) { *this = dims; }
  template <std::input_iterator It>
  void assign(It first, It last) {
    size_ = 0;
    if constexpr (std::forward_iterator<It>)
      reserve(static_cast<size_t>(std::distance(first, last)));
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }

  /// Inserts `value` before `pos`; returns where it went.
  iterator insert(const_iterator pos, int64_t value) { return insert(pos, size_t{1}, value); }
  /// Inserts `count` copies of `value` before `pos`.
  iterator insert(const_iterator pos, size_t count, int64_t value);
  /// Inserts the dimensions of a braced list before `pos`.
  iterator insert(const_iterator pos, std::initializer_list<int64_t> dims) {
    return insert(pos, dims.begin(), dims.end());
  }
  /// Inserts [first, last) (which may not point into this shape) before `pos`.
  template <std::input_iterator It>
  iterator insert(const_iterator pos, It first, It last) {
    const size_t index = static_cast<size_t>(pos - data_);
    const size_t old_size = size_;
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
    rotate_tail(index, old_size);
    return data_ + index;
  }
  /// Removes the dimension at `pos`; returns the position after it.
  iterator erase(const_iterator pos) noexcept { return erase(pos, pos + 1); }
  /// Removes [first, last).
  iterator erase(const_iterator first, const_iterator last) noexcept;

  void swap(Shape& other) noexcept;

  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    return equal(a.data_, a.size_, b.data(), b.size());
  }
  friend bool operator==(const Shape& a, const std::vector<int64_t>& b) noexcept {
    return equal(a.data_, a.size_, b.data(), b.size());
  }
  /// Lexicographic order, as std::vector's.
  friend bool operator<(const Shape& a, const Shape& b) noexcept;

 private:
  static bool equal(const int64_t* a, size_t na, const int64_t* b, size_t nb) noexcept {
    if (na != nb) return false;
    for (size_t i = 0; i < na; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  void append(const int64_t* dims, size_t count) {
    reserve(size_ + count);
    for (size_t i = 0; i < count; ++i) data_[size_ + i] = dims[i];
    size_ += static_cast<uint32_t>(count);
  }
  // Moves `other`'s heap block, or copies its inline dimensions, into this (empty, inline) one.
  void take(Shape& other) noexcept;
  // Moves the dimensions from `old_size` on to position `at` (what insert appended to the end).
  void rotate_tail(size_t at, size_t old_size) noexcept;
  void grow(size_t count);  // moves to a heap block of at least `count` dimensions
  void release() noexcept;  // frees the heap block
  [[noreturn]] void throw_out_of_range(size_t i) const;

  int64_t* data_ = inline_;  // inline_ or a heap block of capacity_ dimensions
  uint32_t size_ = 0;
  uint32_t capacity_ = inline_capacity;
  int64_t inline_[inline_capacity];  // NOLINT: left uninitialised, only [0, size_) is read
};

/// Prints the dimensions as "[2, 3]", as format_shape.
std::ostream& operator<<(std::ostream& out, const Shape& shape);

}  // namespace tg
