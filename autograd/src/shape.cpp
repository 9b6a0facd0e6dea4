// tg::Shape's out-of-line parts: growing onto the heap, insert/erase, order and printing.
#include "tapegrad/autograd/shape.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <ostream>
#include <stdexcept>
#include <string>

#include "tapegrad/autograd/dtype.hpp"

namespace tg {

void Shape::grow(size_t count) {
  // Doubling keeps push_back amortised constant past the inline six.
  const size_t capacity = std::max<size_t>(count, size_t{2} * capacity_);
  if (capacity > UINT32_MAX) throw std::length_error("tg::Shape: too many dimensions");
  auto* block = static_cast<int64_t*>(::operator new(capacity * sizeof(int64_t)));
  if (size_ != 0) std::memcpy(block, data_, size_ * sizeof(int64_t));
  if (data_ != inline_) release();
  data_ = block;
  capacity_ = static_cast<uint32_t>(capacity);
}

void Shape::release() noexcept { ::operator delete(data_); }

void Shape::take(Shape& other) noexcept {
  if (other.data_ != other.inline_) {
    data_ = other.data_;
    capacity_ = other.capacity_;
    other.data_ = other.inline_;
    other.capacity_ = inline_capacity;
  } else if (other.size_ != 0) {
    std::memcpy(inline_, other.inline_, other.size_ * sizeof(int64_t));
  }
  size_ = other.size_;
  other.size_ = 0;
}

void Shape::rotate_tail(size_t at, size_t old_size) noexcept {
  std::rotate(data_ + at, data_ + old_size, data_ + size_);
}

Shape::iterator Shape::insert(const_iterator pos, size_t count, int64_t value) {
  const size_t at = static_cast<size_t>(pos - data_);
  const size_t old_size = size_;
  resize(size_ + count, value);
  rotate_tail(at, old_size);
  return data_ + at;
}

Shape::iterator Shape::erase(const_iterator first, const_iterator last) noexcept {
  auto* from = data_ + (first - data_);
  const auto* to = data_ + (last - data_);
  const size_t tail = static_cast<size_t>(end() - to);
  if (tail != 0) std::memmove(from, to, tail * sizeof(int64_t));
  size_ -= static_cast<uint32_t>(last - first);
  return from;
}

void Shape::swap(Shape& other) noexcept {
  Shape held(std::move(other));
  other = std::move(*this);
  *this = std::move(held);
}

bool operator<(const Shape& a, const Shape& b) noexcept {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

void Shape::throw_out_of_range(size_t i) const {
  throw std::out_of_range("tg::Shape::at: index " + std::to_string(i) + " of a shape of " +
                          std::to_string(size_) + " dimensions");
}

std::ostream& operator<<(std::ostream& out, const Shape& shape) {
  return out << format_shape(shape);
}

}  // namespace tg
