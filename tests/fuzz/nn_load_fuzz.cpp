// Fuzz target: tg::nn::load on arbitrary bytes, into a small fixed model; checks all-or-nothing.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "tapegrad/autograd.hpp"
#include "tapegrad/nn.hpp"

namespace {

// The model every input is loaded into (its saved form is the seed corpus's valid file).
tg::nn::Sequential& model() {
  static tg::nn::Sequential* instance = [] {
    tg::manual_seed(1);
    return new tg::nn::Sequential(tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2));
  }();
  return *instance;
}

std::vector<float> parameter_values() {
  std::vector<float> values;
  for (const tg::Tensor& p : model().parameters())
    values.insert(values.end(), p.data<float>(), p.data<float>() + p.numel());
  return values;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = tg_fuzz::scratch_path("nn_load");
  tg_fuzz::write_file(path, data, size);
  const std::vector<float> before = parameter_values();
  try {
    tg::nn::load(model(), path);
  } catch (const tg::Error&) {
    // Load is all-or-nothing: a failed one must leave every parameter as it was, bit for bit.
    const std::vector<float> after = parameter_values();
    if (after.size() != before.size() ||
        std::memcmp(after.data(), before.data(), after.size() * sizeof(float)) != 0)
      std::abort();
  }
  return 0;
}
