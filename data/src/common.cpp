// Private helpers of tg::data: permutations and row gathering.
#include "common.hpp"

#include <cstring>
#include <numeric>
#include <utility>

namespace tg::data::detail {

std::vector<int64_t> permutation(int64_t n, Generator& generator) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  for (size_t i = order.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(generator.below(i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

const std::byte* bytes_of(const Tensor& t) {
  switch (t.dtype()) {
    case DType::f32:
      return reinterpret_cast<const std::byte*>(t.data<float>());
    case DType::f64:
      return reinterpret_cast<const std::byte*>(t.data<double>());
    case DType::i64:
      return reinterpret_cast<const std::byte*>(t.data<int64_t>());
  }
  return nullptr;
}

std::byte* bytes_of(Tensor& t) {
  return const_cast<std::byte*>(bytes_of(static_cast<const Tensor&>(t)));
}

Tensor gather_rows(const Tensor& source, std::span<const int64_t> rows) {
  Shape shape = source.shape();
  const int64_t row_count = shape[0];
  shape[0] = static_cast<int64_t>(rows.size());
  Tensor out = zeros(shape, {.dtype = source.dtype()});
  const size_t row_bytes =
      row_count == 0
          ? 0
          : static_cast<size_t>(source.numel() / row_count * element_size(source.dtype()));
  if (row_bytes == 0) return out;
  const std::byte* from = bytes_of(source);
  std::byte* to = bytes_of(out);
  for (size_t k = 0; k < rows.size();) {
    size_t run = 1;
    while (k + run < rows.size() && rows[k + run] == rows[k] + static_cast<int64_t>(run)) ++run;
    std::memcpy(to + k * row_bytes, from + static_cast<size_t>(rows[k]) * row_bytes,
                run * row_bytes);
    k += run;
  }
  return out;
}

}  // namespace tg::data::detail
