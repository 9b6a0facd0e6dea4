// Fuzz target: tg::data::read_idx on gzip-compressed files: valid streams of fuzzed IDX bytes,
// truncated streams, and raw bytes behind a gzip magic.
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_common.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

namespace {

std::vector<uint8_t> gzip(const uint8_t* data, size_t size) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip wrapper rather than zlib's.
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    std::abort();
  std::vector<uint8_t> out(deflateBound(&stream, static_cast<uLong>(size)) + 32);
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace

// The first byte picks how the rest becomes a file:
//   0: gzip(rest), a valid stream whose content is fuzzed IDX bytes;
//   1: gzip(rest) cut short at a fraction (second byte / 256) of its length;
//   2: gzip(rest) twice concatenated (a multi-member gzip file);
//   3: the rest as is, behind a gzip magic and deflate method byte (corrupt streams).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return -1;
  const int mode = data[0] % 4;
  const uint8_t cut = data[1];
  const uint8_t* rest = data + 2;
  const size_t rest_size = size - 2;
  std::vector<uint8_t> file;
  if (mode == 3) {
    file = {0x1f, 0x8b, 0x08};
    file.insert(file.end(), rest, rest + rest_size);
  } else {
    file = gzip(rest, rest_size);
    if (mode == 1) file.resize(file.size() * cut / 256);
    if (mode == 2) file.insert(file.end(), file.begin(), file.end());
  }
  const std::string& path = tg_fuzz::scratch_path("read_idx_gz");
  tg_fuzz::write_file(path, file.data(), file.size());
  try {
    tg::Tensor t = tg::data::read_idx(path, tg::f32);
    // A gzip stream can expand ~1000x; what is read must still fit what was compressed.
    if (static_cast<size_t>(t.numel()) > 2 * rest_size) std::abort();
  } catch (const tg::Error&) {
  }
  return 0;
}
