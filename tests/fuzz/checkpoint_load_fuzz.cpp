// Fuzz target: tg::load_checkpoint on arbitrary bytes into a fixed model, Adam and StepLR;
// checks that a refused checkpoint changes none of them, nor the generator.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "fuzz_common.hpp"
#include "tapegrad.hpp"

namespace {

// The objects every input is loaded into; the seed corpus holds their checkpoints (written by
// `resume_helper write-fuzz-seeds`, which builds the same three).
struct Objects {
  tg::nn::Sequential model{tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2)};
  tg::optim::Adam optimizer{model.parameters(), {.lr = 0.01}};
  tg::optim::StepLR scheduler{optimizer, {.step_size = 1}};
};

Objects& objects() {
  static Objects* instance = [] {
    tg::manual_seed(1);
    return new Objects();
  }();
  return *instance;
}

std::string bytes_of(const tg::Tensor& t) {
  const void* data = t.dtype() == tg::DType::f32   ? static_cast<const void*>(t.data<float>())
                     : t.dtype() == tg::DType::f64 ? static_cast<const void*>(t.data<double>())
                                                   : static_cast<const void*>(t.data<int64_t>());
  return std::string(tg::dtype_name(t.dtype())) + tg::format_shape(t.shape()) +
         std::string(static_cast<const char*>(data),
                     static_cast<size_t>(t.numel() * tg::element_size(t.dtype())));
}

std::map<std::string, std::string> snapshot() {
  Objects& o = objects();
  std::map<std::string, std::string> out;
  for (const auto& [name, t] : o.model.state_dict()) out["model." + name] = bytes_of(t);
  for (const auto& [name, t] : o.optimizer.state_dict()) out["optimizer." + name] = bytes_of(t);
  for (const auto& [name, t] : o.scheduler.state_dict()) out["scheduler." + name] = bytes_of(t);
  out["rng"] = bytes_of(tg::get_rng_state());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = tg_fuzz::scratch_path("checkpoint_load");
  tg_fuzz::write_file(path, data, size);
  const auto before = snapshot();
  Objects& o = objects();
  try {
    tg::load_checkpoint(path, o.model, o.optimizer, &o.scheduler);
  } catch (const tg::Error&) {
    // All or nothing across the four parts: a refused file leaves every one bit-identical.
    if (snapshot() != before) std::abort();
  }
  return 0;
}
