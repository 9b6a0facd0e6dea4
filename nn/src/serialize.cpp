// tg::nn::save and tg::nn::load: a module's state dict through tg::save and tg::load.
#include "tapegrad/nn/serialize.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>
#include <vector>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/serialize.hpp"

namespace tg::nn {
namespace {

// nn::load is stricter than load_state_dict: the file must hold exactly the module's names with
// its dtypes too (no silent conversion), and every mismatch is listed at once.
void check_against_module(const std::string& path, const StateDict& file,
                          const Module::NamedTensors& own) {
  std::set<std::string> wanted;
  std::vector<std::string> missing, extra, mismatched;
  for (const auto& [name, tensor] : own) {
    wanted.insert(name);
    const auto found = file.find(name);
    if (found == file.end()) {
      missing.push_back(name);
      continue;
    }
    const Tensor& entry = found->second;
    if (entry.dtype() != tensor.dtype() || entry.shape() != tensor.shape())
      mismatched.push_back(
          fmt::format("\"{}\" is {} {} in the file but {} {} in the module", name,
                      safetensors_dtype(entry.dtype()), format_shape(entry.shape()),
                      safetensors_dtype(tensor.dtype()), format_shape(tensor.shape())));
  }
  for (const auto& [name, tensor] : file)
    if (!wanted.contains(name)) extra.push_back(name);
  std::string problems;
  if (!missing.empty())
    problems += fmt::format("missing from the file: {}; ", fmt::join(missing, ", "));
  if (!extra.empty())
    problems +=
        fmt::format("not parameters or buffers of the module: {}; ", fmt::join(extra, ", "));
  if (!mismatched.empty()) problems += fmt::format("{}; ", fmt::join(mismatched, "; "));
  if (!problems.empty())
    throw Error(fmt::format("tg::nn::load: {}: {}", path, problems.substr(0, problems.size() - 2)));
}

// Parameters first, then buffers, each in registration order: the order of the file.
Module::NamedTensors saved_tensors(const Module& module) {
  Module::NamedTensors tensors = module.named_parameters();
  for (auto& buffer : module.named_buffers()) tensors.push_back(std::move(buffer));
  return tensors;
}

}  // namespace

void save(const Module& module, const std::string& path) {
  save_named(saved_tensors(module), path, {}, "tg::nn::save");
}

void load(Module& module, const std::string& path) {
  const StateDict file = load_named(path, nullptr, "tg::nn::load");
  check_against_module(path, file, saved_tensors(module));
  // Everything is known good: only now is the module written, through each tensor's storage.
  module.load_state_dict(file, /*strict=*/true);
}

}  // namespace tg::nn
