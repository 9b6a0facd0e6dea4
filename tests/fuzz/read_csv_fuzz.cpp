// Fuzz target: tg::data::read_csv on arbitrary text, under options chosen by the first byte.
#include <cstdint>
#include <cstdlib>

#include "fuzz_common.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/data.hpp"

// First byte, bit by bit: 0 header, 1-2 delimiter (, ; \t space), 3-4 label (none, index -1,
// index 0, column "y"), 5 i64 labels, 6 f64 features (f32 otherwise), 7 i64 features. The rest is
// the file.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return -1;
  const uint8_t bits = data[0];
  tg::data::CsvOptions options;
  options.header = (bits & 1) != 0;
  options.delimiter = ",;\t "[(bits >> 1) & 3];
  switch ((bits >> 3) & 3) {
    case 1:
      options.label_index = -1;
      break;
    case 2:
      options.label_index = 0;
      break;
    case 3:
      options.label_column = "y";
      break;
    default:
      break;
  }
  if ((bits >> 5) & 1) options.label_dtype = tg::i64;
  if ((bits >> 6) & 1) options.dtype = tg::f64;
  if ((bits >> 7) & 1) options.dtype = tg::i64;

  const std::string& path = tg_fuzz::scratch_path("read_csv");
  tg_fuzz::write_file(path, data + 1, size - 1);
  try {
    tg::data::CsvData csv = tg::data::read_csv(path, options);
    // Every row has as many features as there are names, and one label if any.
    const auto& shape = csv.features.shape();
    if (shape.size() != 2 || static_cast<size_t>(shape[1]) != csv.feature_names.size())
      std::abort();
    if (csv.labels.defined() && (csv.labels.dim() != 1 || csv.labels.shape()[0] != shape[0]))
      std::abort();
  } catch (const tg::Error&) {
  }
  return 0;
}
