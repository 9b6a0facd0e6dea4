// tg::data::read_idx: IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
#pragma once

#include <cstdint>
#include <string>

#include "tapegrad/autograd/tensor.hpp"

namespace tg::data {

/// Largest payload read_idx accepts, in bytes of the file's elements and of the result: 4 GiB.
inline constexpr int64_t kMaxIdxBytes = int64_t{1} << 32;

/// The tensor stored in the IDX file at `path` (gzip-compressed if it starts with 1f 8b), with
/// the file's shape. Integer element types (ubyte, sbyte, short, int) give i64, float gives f32,
/// double gives f64: divide images by 255 yourself, or call read_idx(path, tg::f32) / 255.
///
/// A malformed file throws tg::Error naming the file and the byte offset (counted in the
/// decompressed stream for .gz): bad magic, unknown type code, no dimensions or a zero one,
/// a payload over kMaxIdxBytes, truncated header or data, bytes after the data, corrupt gzip.
/// The result is allocated up front and filled as the bytes arrive when the file vouches for the
/// header (a plain file's size, a one-member gzip file's trailer length), so the bytes are never
/// held whole beside it; otherwise memory grows with the bytes actually read, never with a size
/// the header merely claims.
Tensor read_idx(const std::string& path);
/// As read_idx(path), converting the elements straight to `dtype` (no i64 intermediate).
Tensor read_idx(const std::string& path, DType dtype);
/// As read_idx(path, dtype), but only the first `max_items` entries along dimension 0 (all of
/// them when the file holds fewer): the rest of the file is neither read nor checked, so a
/// short run over a large file pays for what it uses. Throws tg::Error for a negative count.
Tensor read_idx(const std::string& path, DType dtype, int64_t max_items);

}  // namespace tg::data
