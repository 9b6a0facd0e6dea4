// read_idx: every element type, plain and gzip, and each malformed file named with its offset.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/testing.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

using tg::data::read_idx;
using tg::testing::Bytes;
using tg::testing::contains;
using tg::testing::error_message;
using tg::testing::TempDir;

namespace {

// 00 00 type ndims, then each dim as a big-endian u32, then `payload`.
Bytes idx(unsigned char type, std::initializer_list<uint32_t> dims, const Bytes& payload) {
  Bytes bytes = {0, 0, type, static_cast<unsigned char>(dims.size())};
  for (const uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<unsigned char>(d >> shift));
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

void append_be32(Bytes& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<unsigned char>(value >> shift));
}

// The first error's message for `bytes` written plainly (or gzipped) to `name`.
struct Written {
  std::string path;
  std::string message;
};

Written read_error(const TempDir& dir, const std::string& name, const Bytes& bytes,
                   bool gzip = false) {
  Written written{dir.file(name), ""};
  if (gzip)
    tg::testing::write_gzip(written.path, bytes);
  else
    tg::testing::write_file(written.path, bytes);
  written.message = error_message([&] { read_idx(written.path); });
  CAPTURE(written.message);
  CHECK(contains(written.message, written.path));
  return written;
}

}  // namespace

TEST_CASE("read_idx reads ubyte data, plain and gzipped, as i64 with the file's shape") {
  const TempDir dir;
  const Bytes bytes = idx(0x08, {2, 3}, {0, 1, 2, 127, 128, 255});
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const std::string path = dir.file(gzip ? "u8.idx.gz" : "u8.idx");
    if (gzip)
      tg::testing::write_gzip(path, bytes);
    else
      tg::testing::write_file(path, bytes);
    const tg::Tensor t = read_idx(path);
    CHECK(t.dtype() == tg::i64);
    CHECK(t.shape() == tg::Shape{2, 3});
    CHECK(t.to_vector() == std::vector<double>{0, 1, 2, 127, 128, 255});
  }
  // gzip is recognised by its magic bytes, not by the file name.
  tg::testing::write_gzip(dir.file("compressed_without_suffix"), bytes);
  CHECK(read_idx(dir.file("compressed_without_suffix")).to_vector() ==
        std::vector<double>{0, 1, 2, 127, 128, 255});
}

TEST_CASE("read_idx decodes every element type big-endian") {
  const TempDir dir;
  SUBCASE("sbyte") {
    tg::testing::write_file(dir.file("s8"), idx(0x09, {4}, {0xff, 0x80, 0x7f, 0x00}));
    const tg::Tensor t = read_idx(dir.file("s8"));
    CHECK(t.dtype() == tg::i64);
    CHECK(t.to_vector() == std::vector<double>{-1, -128, 127, 0});
  }
  SUBCASE("short") {
    // 01 02 = 256 + 2 = 258; ff fe = -2 in two's complement; 80 00 = -32768
    tg::testing::write_file(dir.file("s16"), idx(0x0B, {3}, {0x01, 0x02, 0xff, 0xfe, 0x80, 0x00}));
    CHECK(read_idx(dir.file("s16")).to_vector() == std::vector<double>{258, -2, -32768});
  }
  SUBCASE("int") {
    // 00 01 00 00 = 65536; ff ff ff ff = -1; 7f ff ff ff = 2147483647
    tg::testing::write_file(
        dir.file("s32"),
        idx(0x0C, {3}, {0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff}));
    CHECK(read_idx(dir.file("s32")).to_vector() == std::vector<double>{65536, -1, 2147483647});
  }
  SUBCASE("float") {
    // 1.5f = 3f c0 00 00; -2.0f = c0 00 00 00
    tg::testing::write_file(dir.file("f32"), idx(0x0D, {1, 2}, {0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0}));
    const tg::Tensor t = read_idx(dir.file("f32"));
    CHECK(t.dtype() == tg::f32);
    CHECK(t.shape() == tg::Shape{1, 2});
    CHECK(t.to_vector() == std::vector<double>{1.5, -2.0});
  }
  SUBCASE("double") {
    // 0.1 and -1e300, bit for bit
    Bytes payload;
    for (const double value : {0.1, -1e300}) {
      const uint64_t bits = std::bit_cast<uint64_t>(value);
      append_be32(payload, static_cast<uint32_t>(bits >> 32));
      append_be32(payload, static_cast<uint32_t>(bits));
    }
    tg::testing::write_file(dir.file("f64"), idx(0x0E, {2}, payload));
    const tg::Tensor t = read_idx(dir.file("f64"));
    CHECK(t.dtype() == tg::f64);
    CHECK(t.to_vector() == std::vector<double>{0.1, -1e300});
    SUBCASE("a double beyond float's range becomes infinity in f32") {
      const std::vector<double> as_f32 = read_idx(dir.file("f64"), tg::f32).to_vector();
      CHECK(as_f32[0] == static_cast<double>(0.1f));
      CHECK(std::isinf(as_f32[1]));
      CHECK(as_f32[1] < 0);
    }
  }
  SUBCASE("three dimensions") {
    tg::testing::write_file(dir.file("3d"), idx(0x08, {2, 1, 2}, {1, 2, 3, 4}));
    const tg::Tensor t = read_idx(dir.file("3d"));
    CHECK(t.shape() == tg::Shape{2, 1, 2});
    CHECK(t.to_vector() == std::vector<double>{1, 2, 3, 4});
  }
}

TEST_CASE("read_idx with a dtype converts directly") {
  const TempDir dir;
  tg::testing::write_gzip(dir.file("u8.gz"), idx(0x08, {3}, {0, 51, 255}));
  const tg::Tensor t = read_idx(dir.file("u8.gz"), tg::f32);
  CHECK(t.dtype() == tg::f32);
  CHECK(t.to_vector() == std::vector<double>{0, 51, 255});
  CHECK(read_idx(dir.file("u8.gz"), tg::f64).dtype() == tg::f64);

  tg::testing::write_file(dir.file("f32"), idx(0x0D, {1}, {0x3f, 0xc0, 0, 0}));
  CHECK(contains(error_message([&] { read_idx(dir.file("f32"), tg::i64); }),
                 "cannot read float elements as i64"));
}

TEST_CASE("read_idx names the file and offset of a malformed header") {
  const TempDir dir;
  SUBCASE("empty file") {
    const Written w = read_error(dir, "empty", {});
    CHECK(contains(w.message, "byte 0: the file is empty"));
  }
  SUBCASE("shorter than the magic") {
    const Written w = read_error(dir, "three", {0, 0, 8});
    CHECK(contains(w.message, "byte 3: truncated header"));
  }
  SUBCASE("bad magic") {
    const Written w = read_error(dir, "magic", Bytes{1, 0, 8, 1, 0, 0, 0, 1, 7});
    CHECK(contains(w.message, "byte 0: bad magic 01 00"));
  }
  SUBCASE("text instead of IDX") {
    const Written w = read_error(dir, "garbage.txt",
                                 Bytes{'h', 'e', 'l', 'l', 'o', ',', ' ', 'w', 'o', 'r', 'l', 'd'});
    CHECK(contains(w.message, "byte 0: bad magic 68 65"));
  }
  SUBCASE("unknown element type") {
    const Written w = read_error(dir, "type", idx(0x07, {1}, {0}));
    CHECK(contains(w.message, "byte 2: unknown element type 0x07"));
  }
  SUBCASE("no dimensions") {
    const Written w = read_error(dir, "ndims", {0, 0, 8, 0});
    CHECK(contains(w.message, "byte 3: the header declares 0 dimensions"));
  }
  SUBCASE("dimension sizes cut short") {
    // Two dimensions need 8 bytes of sizes; the file holds 4 of them, ending at byte 8.
    const Written w = read_error(dir, "dims", {0, 0, 8, 2, 0, 0, 0, 3});
    CHECK(contains(w.message, "byte 8: truncated header"));
  }
  SUBCASE("a dimension of size 0") {
    const Written w = read_error(dir, "zero", idx(0x08, {3, 0}, {}));
    CHECK(contains(w.message, "byte 8: dimension 1 has size 0"));
  }
  SUBCASE("a shape over the size limit") {
    // 65536 * 65536 ubyte = 4 GiB of data, whose i64 result would be 32 GiB: the limit is passed
    // at the second dimension, at byte 8.
    const Written w = read_error(dir, "huge", idx(0x08, {65536, 65536, 1}, {1, 2, 3}));
    CHECK(contains(w.message, "byte 8: dimension 1 of size 65536"));
    CHECK(contains(w.message, "limit"));
  }
  SUBCASE("a product that would overflow 64 bits") {
    // 2^32-1 in each of five dimensions: the limit check stops at the first.
    const Written w = read_error(
        dir, "overflow",
        idx(0x0E, {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {}));
    CHECK(contains(w.message, "byte 4: dimension 0 of size 4294967295"));
  }
  SUBCASE("missing file") {
    const std::string path = dir.file("absent.idx");
    const std::string message = error_message([&] { read_idx(path); });
    CHECK(contains(message, "cannot open '" + path + "'"));
  }
}

TEST_CASE("read_idx names the file and offset of bad data") {
  const TempDir dir;
  // Shape [2, 3] of ubyte: a 12-byte header, then 6 data bytes ending at byte 18.
  SUBCASE("truncated plain data") {
    const Written w = read_error(dir, "short", idx(0x08, {2, 3}, {1, 2, 3, 4, 5}));
    CHECK(contains(w.message, "byte 17: truncated data"));
    CHECK(contains(w.message, "shape [2, 3] of ubyte (6 bytes) from byte 12"));
  }
  SUBCASE("trailing plain bytes") {
    const Written w = read_error(dir, "long", idx(0x08, {2, 3}, {1, 2, 3, 4, 5, 6, 7}));
    CHECK(contains(w.message, "byte 18: trailing bytes"));
    CHECK(contains(w.message, "1 bytes longer"));
  }
  SUBCASE("truncated gzip data") {
    const Written w = read_error(dir, "short.gz", idx(0x08, {2, 3}, {1, 2, 3, 4, 5}), true);
    CHECK(contains(w.message, "decompressed byte 17: truncated data"));
  }
  SUBCASE("trailing gzip bytes") {
    const Written w = read_error(dir, "long.gz", idx(0x08, {2, 3}, {1, 2, 3, 4, 5, 6, 7}), true);
    CHECK(contains(w.message, "decompressed byte 18: trailing bytes"));
  }
  SUBCASE("a header that promises far more than the gzip stream holds") {
    // 10^8 bytes declared, 3 present: the reader finds out after inflating 3 bytes.
    const Written w = read_error(dir, "liar.gz", idx(0x08, {100000000}, {1, 2, 3}), true);
    CHECK(contains(w.message, "decompressed byte 11: truncated data"));
  }
  SUBCASE("a plain header that promises more than the file holds") {
    const Written w = read_error(dir, "liar", idx(0x08, {100000000}, {1, 2, 3}));
    CHECK(contains(w.message, "byte 11: truncated data"));
  }
}

TEST_CASE("read_idx rejects corrupt gzip streams") {
  const TempDir dir;
  // 1000 bytes that compress well, so the deflate stream is short and easy to damage.
  Bytes payload(1000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<unsigned char>(i % 7);
  const std::string good = dir.file("good.gz");
  tg::testing::write_gzip(good, idx(0x08, {1000}, payload));
  REQUIRE(read_idx(good).numel() == 1000);
  const Bytes compressed = tg::testing::read_file(good);
  REQUIRE(compressed.size() > 30);

  SUBCASE("cut in the middle") {
    const Written w = read_error(dir, "cut.gz", Bytes(compressed.begin(), compressed.begin() + 20));
    CHECK(contains(w.message, "(compressed byte 20): corrupt gzip stream: the file ends inside"));
  }
  SUBCASE("wrong CRC in the trailer") {
    Bytes damaged = compressed;
    damaged[damaged.size() - 8] ^= 0xff;  // the trailer is CRC32 then length, 4 bytes each
    const Written w = read_error(dir, "crc.gz", damaged);
    // inflate reports the mismatch once it has produced all 1008 bytes and read the CRC.
    CHECK(contains(w.message, "decompressed byte 1008 (compressed byte " +
                                  std::to_string(damaged.size() - 4) + "): corrupt gzip stream"));
    CHECK(contains(w.message, "incorrect data check"));
  }
  SUBCASE("garbage after the last member") {
    Bytes padded = compressed;
    for (const char c : std::string("junk")) padded.push_back(static_cast<unsigned char>(c));
    const Written w = read_error(dir, "junk.gz", padded);
    CHECK(contains(w.message, "decompressed byte 1008"));
    CHECK(contains(w.message, "corrupt gzip stream"));
  }
  SUBCASE("two members are one stream, as gunzip reads them") {
    // The header and the first 500 pixels in one member, the other 500 in a second.
    const Bytes whole = idx(0x08, {1000}, payload);
    tg::testing::write_gzip(dir.file("a.gz"), Bytes(whole.begin(), whole.begin() + 508));
    tg::testing::write_gzip(dir.file("b.gz"), Bytes(whole.begin() + 508, whole.end()));
    Bytes joined = tg::testing::read_file(dir.file("a.gz"));
    const Bytes second = tg::testing::read_file(dir.file("b.gz"));
    joined.insert(joined.end(), second.begin(), second.end());
    tg::testing::write_file(dir.file("joined.gz"), joined);
    const std::vector<double> values = read_idx(dir.file("joined.gz")).to_vector();
    REQUIRE(values.size() == 1000);
    CHECK(values[0] == 0);
    CHECK(values[999] == 999 % 7);
  }
  SUBCASE("garbage after the gzip magic") {
    const Written w = read_error(dir, "magic_only.gz", Bytes{0x1f, 0x8b, 0xff, 0xff, 0xff, 0xff});
    CHECK(contains(w.message, "corrupt gzip stream"));
  }
}

TEST_CASE("read_idx converts data larger than its read chunk straight into the result") {
  // 600,000 big-endian shorts (1.2 MB) cross the 1 MiB chunk the reader converts at a time;
  // element i holds i mod 30011 - 15000, so both signs and every chunk boundary are checked.
  const TempDir dir;
  constexpr uint32_t kCount = 600000;
  Bytes payload;
  payload.reserve(2 * kCount);
  auto value = [](uint32_t i) {
    return static_cast<int16_t>(static_cast<int32_t>(i % 30011) - 15000);
  };
  for (uint32_t i = 0; i < kCount; ++i) {
    const auto bits = static_cast<uint16_t>(value(i));
    payload.push_back(static_cast<unsigned char>(bits >> 8));
    payload.push_back(static_cast<unsigned char>(bits & 0xff));
  }
  const Bytes bytes = idx(0x0B, {kCount}, payload);
  for (const bool gzip : {false, true}) {
    CAPTURE(gzip);
    const std::string path = dir.file(gzip ? "big.gz" : "big");
    if (gzip)
      tg::testing::write_gzip(path, bytes);
    else
      tg::testing::write_file(path, bytes);
    const tg::Tensor t = read_idx(path, tg::f32);
    REQUIRE(t.shape() == tg::Shape{kCount});
    const float* x = t.data<float>();
    // 524,288 shorts fill the first chunk; check around it and at both ends.
    for (const uint32_t i : {0u, 1u, 524287u, 524288u, 524289u, kCount - 1}) {
      CAPTURE(i);
      CHECK(x[i] == static_cast<float>(value(i)));
    }
    uint32_t wrong = 0;
    for (uint32_t i = 0; i < kCount; ++i) wrong += x[i] != static_cast<float>(value(i)) ? 1 : 0;
    CHECK(wrong == 0);
  }
}

TEST_CASE("read_idx refuses a gzip trailer forged to agree with a lying header") {
  // The header declares 1000 bytes, the stream holds 3, and the trailer's length field is set to
  // the 1008 the header implies: the reader trusts it enough to allocate 1000 elements, then the
  // stream runs out (zlib first finds the length check wrong).
  const TempDir dir;
  const std::string honest = dir.file("honest.gz");
  tg::testing::write_gzip(honest, idx(0x08, {1000}, {1, 2, 3}));
  Bytes forged = tg::testing::read_file(honest);
  const uint32_t length = 1008;
  for (int k = 0; k < 4; ++k)
    forged[forged.size() - 4 + static_cast<size_t>(k)] =
        static_cast<unsigned char>(length >> (8 * k));
  const Written w = read_error(dir, "forged.gz", forged);
  CHECK(contains(w.message, "corrupt gzip stream"));
  CHECK(contains(w.message, "incorrect length check"));
}

TEST_CASE("read_idx with max_items reads only the first entries along dimension 0") {
  const TempDir dir;
  // Four rows of three; the gzip copy's trailer is then damaged, which only a read of the
  // whole stream can notice.
  const Bytes bytes = idx(0x08, {4, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  tg::testing::write_file(dir.file("rows.idx"), bytes);
  tg::testing::write_gzip(dir.file("rows.idx.gz"), bytes);
  Bytes damaged = tg::testing::read_file(dir.file("rows.idx.gz"));
  damaged[damaged.size() - 8] ^= 0xff;  // the CRC-32 of the trailer
  tg::testing::write_file(dir.file("bad_crc.idx.gz"), damaged);
  for (const std::string name : {"rows.idx", "rows.idx.gz", "bad_crc.idx.gz"}) {
    CAPTURE(name);
    const tg::Tensor two = read_idx(dir.file(name), tg::f64, 2);
    CHECK(two.dtype() == tg::f64);
    CHECK(two.shape() == tg::Shape{2, 3});
    CHECK(two.to_vector() == std::vector<double>{0, 1, 2, 3, 4, 5});
    CHECK(read_idx(dir.file(name), tg::f32, 0).shape() == tg::Shape{0, 3});
  }
  // As many entries as the file holds, or more, is the whole file, checked to its end.
  CHECK(read_idx(dir.file("rows.idx"), tg::i64, 4).shape() == tg::Shape{4, 3});
  CHECK(read_idx(dir.file("rows.idx.gz"), tg::i64, 9).shape() == tg::Shape{4, 3});
  CHECK(contains(error_message([&] { read_idx(dir.file("bad_crc.idx.gz"), tg::i64, 4); }),
                 "incorrect data check"));
  // A prefix still needs its own bytes, and a plain file's size is still checked.
  tg::testing::write_file(dir.file("short.idx"), Bytes(bytes.begin(), bytes.end() - 1));
  CHECK(contains(error_message([&] { read_idx(dir.file("short.idx"), tg::i64, 1); }),
                 "truncated data"));
  const std::string negative = error_message([&] { read_idx(dir.file("rows.idx"), tg::i64, -1); });
  CHECK(contains(negative, "read_idx"));
  CHECK(contains(negative, "max_items must be >= 0, got -1"));
}
