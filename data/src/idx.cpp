// read_idx: the IDX format (magic 00 00 type ndims, big-endian u32 dims, big-endian elements).
#include "tapegrad/data/idx.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "common.hpp"
#include "tapegrad/autograd/dispatch.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::data {
namespace {

// Bytes read per call: big enough for speed, small enough that a header lying about the size
// of a gzip stream costs at most this much before the stream runs out.
constexpr size_t kChunkBytes = size_t{1} << 20;

// Offsets in a gzip file count bytes of the decompressed stream, which is what the IDX header
// describes; the message says so.
[[noreturn]] void fail(const std::string& path, bool gzip, uint64_t offset,
                       const std::string& what) {
  throw Error(
      fmt::format("read_idx: {}: {}byte {}: {}", path, gzip ? "decompressed " : "", offset, what));
}

struct ElementType {
  uint8_t code;
  const char* name;
  int bytes;
  DType natural;  // what read_idx(path) returns for it
};

constexpr std::array<ElementType, 6> kElementTypes = {{
    {0x08, "ubyte", 1, DType::i64},
    {0x09, "sbyte", 1, DType::i64},
    {0x0B, "short", 2, DType::i64},
    {0x0C, "int", 4, DType::i64},
    {0x0D, "float", 4, DType::f32},
    {0x0E, "double", 8, DType::f64},
}};

// A byte stream that is either a plain file or a gzip stream inflated on the fly. zlib's
// inflate is driven directly (rather than through gzread, which inflates ahead into its own
// buffer) so that corruption is reported at the exact compressed and decompressed offsets, and
// bytes after the last gzip member are an error rather than silently ignored.
class Source {
 public:
  explicit Source(const std::string& path) : path_(path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr)
      throw Error(fmt::format("read_idx: cannot open '{}': {}", path, std::strerror(errno)));
    file_.reset(file);
    unsigned char magic[2] = {0, 0};
    const size_t got = std::fread(magic, 1, 2, file);
    if (std::fseek(file, 0, SEEK_SET) != 0)
      throw Error(fmt::format("read_idx: {}: not a seekable file", path));
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      stream_ = std::make_unique<z_stream>();
      // 16 + MAX_WBITS: a gzip wrapper, whose CRC-32 and length inflate checks at the end.
      if (inflateInit2(stream_.get(), 16 + MAX_WBITS) != Z_OK) {
        stream_.reset();
        throw Error(fmt::format("read_idx: {}: zlib could not start inflating", path));
      }
      input_.resize(kInputBytes);
      // The last 4 bytes of a gzip member are its decompressed length mod 2^32 (little-endian).
      unsigned char trailer[4];
      if (std::fseek(file, -4, SEEK_END) == 0 && std::fread(trailer, 1, 4, file) == 4)
        trailer_length_ = uint32_t{trailer[0]} | (uint32_t{trailer[1]} << 8) |
                          (uint32_t{trailer[2]} << 16) | (uint32_t{trailer[3]} << 24);
      if (std::fseek(file, 0, SEEK_SET) != 0)
        throw Error(fmt::format("read_idx: {}: not a seekable file", path));
      return;
    }
    // A plain file: its size is known up front, so a header can be checked against it.
    if (std::fseek(file, 0, SEEK_END) == 0) {
      const long end = std::ftell(file);
      if (end >= 0) size_ = static_cast<uint64_t>(end);
    }
    if (std::fseek(file, 0, SEEK_SET) != 0 || !size_)
      throw Error(fmt::format("read_idx: {}: not a seekable file", path));
  }

  ~Source() {
    if (stream_) inflateEnd(stream_.get());
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  bool gzip() const { return stream_ != nullptr; }
  // Size of a plain file; unknown for gzip until it has been read.
  std::optional<uint64_t> size() const { return size_; }
  // Whether the file itself vouches for a stream of `bytes`: a plain file's size (checked
  // against the header before reading), or a one-member gzip file's trailer length. A multi-member
  // gzip file names only its last member's length there, so it never vouches.
  bool confirms(uint64_t bytes) const {
    return size_ ? *size_ == bytes
                 : trailer_length_ && *trailer_length_ == static_cast<uint32_t>(bytes);
  }

  // Reads up to `count` bytes; fewer only at the end of the stream. Throws for corrupt gzip.
  size_t read(unsigned char* buffer, size_t count) {
    size_t total = 0;
    if (!stream_) {
      total = std::fread(buffer, 1, count, file_.get());
      if (total < count && std::ferror(file_.get()))
        fail(path_, false, offset_ + total, fmt::format("read error: {}", std::strerror(errno)));
    } else {
      while (total < count && !finished_) total += inflate_some(buffer + total, count - total);
    }
    offset_ += total;
    return total;
  }

 private:
  static constexpr size_t kInputBytes = size_t{1} << 16;

  // Inflates into buffer[0, count) and returns how many bytes it produced (possibly 0 while it
  // reads a member's header); sets finished_ at the clean end of the last member.
  size_t inflate_some(unsigned char* buffer, size_t count) {
    z_stream& z = *stream_;
    if (z.avail_in == 0 && !refill()) {
      if (member_ended_) {
        finished_ = true;
        return 0;
      }
      gzip_fail(compressed_offset(), "the file ends inside the compressed stream");
    }
    if (member_ended_) {
      // More input after a complete member: it must be another member (as gunzip accepts).
      inflateReset(&z);
      member_ended_ = false;
    }
    z.next_out = buffer;
    z.avail_out = static_cast<uInt>(std::min(count, kChunkBytes));
    const uInt before = z.avail_out;
    const int status = inflate(&z, Z_NO_FLUSH);
    const size_t produced = before - z.avail_out;
    decompressed_ += produced;
    if (status == Z_STREAM_END)
      member_ended_ = true;
    else if (status != Z_OK && status != Z_BUF_ERROR)
      gzip_fail(compressed_offset(), z.msg != nullptr ? z.msg : zError(status));
    return produced;
  }

  bool refill() {
    z_stream& z = *stream_;
    const size_t got = std::fread(input_.data(), 1, input_.size(), file_.get());
    if (got == 0 && std::ferror(file_.get()))
      gzip_fail(fed_, fmt::format("read error: {}", std::strerror(errno)));
    fed_ += got;
    z.next_in = input_.data();
    z.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  uint64_t compressed_offset() const { return fed_ - stream_->avail_in; }

  [[noreturn]] void gzip_fail(uint64_t compressed, const std::string& what) const {
    throw Error(
        fmt::format("read_idx: {}: decompressed byte {} (compressed byte {}): corrupt "
                    "gzip stream: {}",
                    path_, decompressed_, compressed, what));
  }

  struct CloseFile {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, CloseFile> file_;
  std::unique_ptr<z_stream> stream_;
  std::vector<unsigned char> input_;
  bool member_ended_ = false;
  bool finished_ = false;
  uint64_t fed_ = 0;           // compressed bytes handed to inflate
  uint64_t decompressed_ = 0;  // bytes inflate has produced
  std::optional<uint64_t> size_;
  std::optional<uint32_t> trailer_length_;
  uint64_t offset_ = 0;
};

uint32_t big_endian_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

uint64_t big_endian_u64(const unsigned char* p) {
  return (uint64_t{big_endian_u32(p)} << 32) | big_endian_u32(p + 4);
}

// The element at p of the file's type, as the output type T.
template <class T>
T element_as(const ElementType& type, const unsigned char* p) {
  switch (type.code) {
    case 0x08:
      return static_cast<T>(p[0]);
    case 0x09:
      return static_cast<T>(static_cast<int8_t>(p[0]));
    case 0x0B:
      return static_cast<T>(static_cast<int16_t>((uint16_t{p[0]} << 8) | uint16_t{p[1]}));
    case 0x0C:
      return static_cast<T>(static_cast<int32_t>(big_endian_u32(p)));
    case 0x0D:
      return static_cast<T>(std::bit_cast<float>(big_endian_u32(p)));
    default: {
      const double value = std::bit_cast<double>(big_endian_u64(p));
      // A double beyond float's range converts to float with undefined behaviour; saturate to
      // infinity, which is what IEEE rounding would give.
      if constexpr (std::is_same_v<T, float>) {
        if (std::isfinite(value) && std::abs(value) > std::numeric_limits<float>::max())
          return value > 0 ? std::numeric_limits<float>::infinity()
                           : -std::numeric_limits<float>::infinity();
      }
      return static_cast<T>(value);
    }
  }
}

// Converts the `count` elements at p into out.
template <class T>
void convert(const ElementType& type, const unsigned char* p, size_t count, T* out) {
  if (type.code == 0x08) {  // the common case (images, labels) gets a loop the compiler vectorises
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<T>(p[i]);
    return;
  }
  for (size_t i = 0; i < count; ++i)
    out[i] = element_as<T>(type, p + i * static_cast<size_t>(type.bytes));
}

[[noreturn]] void truncated(const std::string& path, const Source& source,
                            const std::string& declared, uint64_t data_offset, uint64_t have) {
  fail(path, source.gzip(), data_offset + have,
       fmt::format("truncated data: the header declares {} from byte {}, but the {} ends "
                   "after {} of them",
                   declared, data_offset, source.gzip() ? "decompressed stream" : "file", have));
}

// Reads the file at `path`, or with `max_items` only its first entries along dimension 0.
Tensor read(const std::string& path, std::optional<DType> requested,
            std::optional<int64_t> max_items) {
  Source source(path);

  unsigned char magic[4];
  const size_t got = source.read(magic, 4);
  if (got == 0)
    fail(path, source.gzip(), 0, "the file is empty; an IDX file starts with 00 00 <type> <ndims>");
  if (got < 4)
    fail(path, source.gzip(), got,
         fmt::format("truncated header: the file ends after {} of the 4 magic bytes", got));
  if (magic[0] != 0 || magic[1] != 0)
    fail(path, source.gzip(), 0,
         fmt::format("bad magic {:02x} {:02x}: an IDX file starts with 00 00", magic[0], magic[1]));
  const ElementType* type = nullptr;
  for (const ElementType& candidate : kElementTypes)
    if (candidate.code == magic[2]) type = &candidate;
  if (type == nullptr)
    fail(path, source.gzip(), 2,
         fmt::format("unknown element type 0x{:02x} (expected 08 ubyte, 09 sbyte, "
                     "0B short, 0C int, 0D float or 0E double)",
                     magic[2]));
  const size_t ndims = magic[3];
  if (ndims == 0) fail(path, source.gzip(), 3, "the header declares 0 dimensions");
  const DType dtype = requested.value_or(type->natural);
  if (dtype == DType::i64 && type->natural != DType::i64)
    throw Error(fmt::format("read_idx: {}: cannot read {} elements as i64; ask for f32 or f64",
                            path, type->name));

  std::vector<unsigned char> dims_raw(4 * ndims);
  const size_t dims_got = source.read(dims_raw.data(), dims_raw.size());
  if (dims_got < dims_raw.size())
    fail(path, source.gzip(), 4 + dims_got,
         fmt::format("truncated header: {} dimensions need {} bytes of sizes, the file ends "
                     "after {}",
                     ndims, dims_raw.size(), dims_got));

  // Each size is below 2^32 and the running product is kept at most kMaxIdxBytes = 2^32, so
  // the products never overflow 64 bits.
  Shape shape(ndims);
  uint64_t numel = 1;
  const uint64_t widest =
      static_cast<uint64_t>(std::max<int64_t>(type->bytes, element_size(dtype)));
  for (size_t k = 0; k < ndims; ++k) {
    const uint32_t size = big_endian_u32(&dims_raw[4 * k]);
    const uint64_t offset = 4 + 4 * k;
    if (size == 0) fail(path, source.gzip(), offset, fmt::format("dimension {} has size 0", k));
    shape[k] = static_cast<int64_t>(size);
    numel *= size;
    if (numel * widest > static_cast<uint64_t>(kMaxIdxBytes))
      fail(path, source.gzip(), offset,
           fmt::format("dimension {} of size {} makes the data larger than the {} byte limit", k,
                       size, kMaxIdxBytes));
  }

  const uint64_t data_offset = 4 + 4 * ndims;
  const uint64_t data_bytes = numel * static_cast<uint64_t>(type->bytes);
  const std::string declared =
      fmt::format("shape {} of {} ({} bytes)", format_shape(shape), type->name, data_bytes);
  if (const auto file_size = source.size()) {
    if (*file_size < data_offset + data_bytes)
      fail(path, source.gzip(), *file_size,
           fmt::format("truncated data: the header declares {} from byte {}, but the file ends "
                       "after {} of them",
                       declared, data_offset, *file_size - data_offset));
    if (*file_size > data_offset + data_bytes)
      fail(path, source.gzip(), data_offset + data_bytes,
           fmt::format("trailing bytes after the data: the file is {} bytes longer than the "
                       "header declares ({})",
                       *file_size - data_offset - data_bytes, declared));
  }

  // A prefix stops after its entries: the rest of the stream is neither inflated nor checked.
  const bool prefix = max_items && *max_items < shape[0];
  Shape out_shape = shape;
  if (prefix) out_shape[0] = *max_items;
  const uint64_t read_bytes =
      prefix ? data_bytes / shape[0] * static_cast<uint64_t>(*max_items) : data_bytes;
  Tensor out;
  if (source.confirms(data_offset + data_bytes)) {
    // The file's size vouches for the header: allocate the result once and convert the bytes
    // into it a chunk at a time, so the file's bytes are never held whole beside it (for
    // Fashion-MNIST's training images, 47 MB of bytes beside 188 MB of f32).
    out = zeros(out_shape, {.dtype = dtype});
    std::vector<unsigned char> chunk(
        static_cast<size_t>(std::min<uint64_t>(read_bytes, kChunkBytes)));
    tg::detail::dispatch(out.dtype(), [&]<class T>() {
      T* o = out.data<T>();
      uint64_t have = 0;
      while (have < read_bytes) {
        const size_t want =
            static_cast<size_t>(std::min<uint64_t>(read_bytes - have, chunk.size()));
        const size_t n = source.read(chunk.data(), want);
        if (n < want) truncated(path, source, declared, data_offset, have + n);
        const size_t element = static_cast<size_t>(type->bytes);
        convert(*type, chunk.data(), n / element, o + have / element);
        have += n;
      }
    });
  } else {
    // The buffer grows with the bytes that actually arrive: a gzip stream's length is only
    // known once it has been inflated.
    std::vector<unsigned char> raw;
    uint64_t have = 0;
    while (have < read_bytes) {
      const uint64_t capacity =
          std::min(read_bytes, std::max<uint64_t>(2 * raw.size(), kChunkBytes));
      raw.resize(static_cast<size_t>(capacity));
      const size_t want = static_cast<size_t>(capacity - have);
      const size_t n = source.read(raw.data() + have, want);
      have += n;
      if (n < want) truncated(path, source, declared, data_offset, have);
    }
    out = zeros(out_shape, {.dtype = dtype});
    tg::detail::dispatch(out.dtype(), [&]<class T>() {
      T* o = out.data<T>();
      convert(*type, raw.data(), raw.size() / static_cast<size_t>(type->bytes), o);
    });
  }
  if (prefix) return out;
  // Reading one byte more also makes zlib check the gzip trailer's CRC and length. (As with
  // gunzip, zlib ignores garbage after the last complete gzip member.)
  unsigned char extra;
  if (source.read(&extra, 1) != 0)
    fail(path, source.gzip(), data_offset + data_bytes,
         fmt::format("trailing bytes after the data: the stream is longer than the header "
                     "declares ({})",
                     declared));
  return out;
}

}  // namespace

Tensor read_idx(const std::string& path) { return read(path, std::nullopt, std::nullopt); }

Tensor read_idx(const std::string& path, DType dtype) { return read(path, dtype, std::nullopt); }

Tensor read_idx(const std::string& path, DType dtype, int64_t max_items) {
  if (max_items < 0)
    throw Error(fmt::format("read_idx: {}: max_items must be >= 0, got {}", path, max_items));
  return read(path, dtype, max_items);
}

}  // namespace tg::data
