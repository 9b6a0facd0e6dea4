// Fuzz target: tg::data::read_idx on arbitrary bytes (the plain, uncompressed path).
#include <cstdint>
#include <cstdlib>

#include "fuzz_common.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Gzip's magic sends the reader down the other path, which read_idx_gz fuzzes with valid
  // streams; here every input stays on the plain path.
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return -1;
  const std::string& path = tg_fuzz::scratch_path("read_idx");
  tg_fuzz::write_file(path, data, size);
  // As stored, and converted on the way in to each dtype (float files to i64 included).
  for (int variant = 0; variant < 4; ++variant) {
    try {
      tg::Tensor t = variant == 0   ? tg::data::read_idx(path)
                     : variant == 1 ? tg::data::read_idx(path, tg::f64)
                     : variant == 2 ? tg::data::read_idx(path, tg::f32)
                                    : tg::data::read_idx(path, tg::i64);
      int64_t numel = 1;
      for (int64_t extent : t.shape()) numel *= extent;
      // What was read must be what the header said, and no more than the file held.
      if (numel != t.numel() || static_cast<size_t>(numel) > size) std::abort();
    } catch (const tg::Error&) {
    }
  }
  return 0;
}
