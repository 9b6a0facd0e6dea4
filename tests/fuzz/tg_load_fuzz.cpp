// Fuzz target: tg::load on arbitrary bytes; whatever loads must save and load back bit for bit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_common.hpp"
#include "tapegrad/autograd.hpp"

namespace {

bool same_bits(const tg::Tensor& a, const tg::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::ranges::equal(tg::raw_bytes(a), tg::raw_bytes(b));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = tg_fuzz::scratch_path("tg_load");
  tg_fuzz::write_file(path, data, size);
  tg::StateDict state;
  tg::Metadata metadata;
  try {
    state = tg::load(path, &metadata);
  } catch (const tg::Error&) {
    return 0;  // refused with tg::Error: fine; anything else escapes and fails the run
  }
  // Accepted: the reserved keys never reach the caller, and a save of what was read reads back
  // the same (names, dtypes, shapes, bits and metadata).
  for (const auto& [key, value] : metadata)
    if (tg::is_reserved_metadata_key(key)) std::abort();
  static const std::string copy = path + ".copy";
  try {
    tg::save(state, copy, metadata);
  } catch (const tg::Error&) {
    return 0;  // e.g. a name that is not valid UTF-8 cannot be written back as JSON
  }
  tg::Metadata metadata_again;
  const tg::StateDict again = tg::load(copy, &metadata_again);
  std::remove(copy.c_str());
  if (again.size() != state.size() || metadata_again != metadata) std::abort();
  for (const auto& [name, tensor] : state) {
    const auto found = again.find(name);
    if (found == again.end() || !same_bits(found->second, tensor)) std::abort();
  }
  return 0;
}
