// tg::save_checkpoint and tg::load_checkpoint: the four parts under their prefixes, restored
// all or nothing by rolling back the parts already loaded when a later one is refused.
#include "tapegrad/checkpoint.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <string_view>
#include <vector>

#include "tapegrad/autograd/error.hpp"
#include "tapegrad/autograd/random.hpp"
#include "tapegrad/data/dataloader.hpp"

namespace tg {
namespace {

constexpr std::string_view kModel = "model.", kOptimizer = "optimizer.", kScheduler = "scheduler.",
                           kLoader = "loader.", kRng = "rng.";
constexpr const char* kRngEntry = "rng.state";

void append_part(NamedTensorList& out, std::string_view prefix, const StateDict& part) {
  for (const auto& [name, tensor] : part) out.emplace_back(std::string(prefix) + name, tensor);
}

const char* dtype_of(const Tensor& tensor) {
  return tensor.defined() ? dtype_name(tensor.dtype()) : "undefined";
}

// The model part must match exactly (load_state_dict would convert f64 to f32 silently, but a
// checkpoint of another dtype is another run). Every problem is listed at once.
void check_model_part(const StateDict& file, const StateDict& own, std::vector<std::string>& out) {
  for (const auto& [name, tensor] : own) {
    const auto found = file.find(name);
    if (found == file.end()) {
      out.push_back(fmt::format("missing entry \"{}{}\" ({} {})", kModel, name, dtype_of(tensor),
                                format_shape(tensor.shape())));
    } else if (found->second.dtype() != tensor.dtype() || found->second.shape() != tensor.shape()) {
      out.push_back(fmt::format("entry \"{}{}\" is {} {} in the file but {} {} in the model",
                                kModel, name, dtype_of(found->second),
                                format_shape(found->second.shape()), dtype_of(tensor),
                                format_shape(tensor.shape())));
    }
  }
  for (const auto& [name, tensor] : file)
    if (!own.contains(name))
      out.push_back(
          fmt::format("entry \"{}{}\" is not a parameter or buffer of the model", kModel, name));
}

}  // namespace

StateDict SchedulerRef::state_dict() const {
  return epoch_driven_ != nullptr ? epoch_driven_->state_dict() : plateau_->state_dict();
}

void SchedulerRef::load_state_dict(const StateDict& state) const {
  if (epoch_driven_ != nullptr) {
    epoch_driven_->load_state_dict(state);
  } else {
    plateau_->load_state_dict(state);
  }
}

void save_checkpoint(const std::string& path, const nn::Module& model,
                     const optim::Optimizer& optimizer, SchedulerRef scheduler,
                     const Metadata& metadata) {
  save_checkpoint(path, model, optimizer, {.scheduler = scheduler, .metadata = metadata});
}

void save_checkpoint(const std::string& path, const nn::Module& model,
                     const optim::Optimizer& optimizer, const CheckpointParts& parts) {
  NamedTensorList tensors;
  append_part(tensors, kModel, model.state_dict());
  append_part(tensors, kOptimizer, optimizer.state_dict());
  if (parts.scheduler) append_part(tensors, kScheduler, parts.scheduler.state_dict());
  if (parts.loader != nullptr) append_part(tensors, kLoader, parts.loader->state_dict());
  tensors.emplace_back(kRngEntry, get_rng_state());
  save_named(tensors, path, parts.metadata, "tg::save_checkpoint");
}

Metadata load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer,
                         SchedulerRef scheduler) {
  return load_checkpoint(path, model, optimizer, CheckpointParts{.scheduler = scheduler});
}

Metadata load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer,
                         const CheckpointParts& parts) {
  const SchedulerRef scheduler = parts.scheduler;
  data::DataLoader* const loader = parts.loader;
  constexpr std::string_view caller = "tg::load_checkpoint";
  auto fail = [&](const std::string& problem) {
    return Error(fmt::format("{}: {}: {}", caller, path, problem));
  };
  Metadata metadata;
  const StateDict file = load_named(path, &metadata, caller);

  // Split by prefix; an entry under no known prefix is refused rather than ignored.
  StateDict model_part, optimizer_part, scheduler_part, loader_part;
  Tensor rng_state;
  std::vector<std::string> problems;
  for (const auto& [name, tensor] : file) {
    const std::string_view view = name;
    if (view.starts_with(kModel)) {
      model_part.emplace(name.substr(kModel.size()), tensor);
    } else if (view.starts_with(kOptimizer)) {
      optimizer_part.emplace(name.substr(kOptimizer.size()), tensor);
    } else if (view.starts_with(kScheduler)) {
      scheduler_part.emplace(name.substr(kScheduler.size()), tensor);
    } else if (view.starts_with(kLoader)) {
      loader_part.emplace(name.substr(kLoader.size()), tensor);
    } else if (name == kRngEntry) {
      rng_state = tensor;
    } else {
      problems.push_back(fmt::format(
          "entry \"{}\" belongs to no part (model., optimizer., scheduler., loader., rng.state)",
          name));
    }
  }
  if (optimizer_part.empty())
    problems.push_back(fmt::format("no optimizer entries (\"{}*\"): not a checkpoint", kOptimizer));
  if (!rng_state.defined())
    problems.push_back(fmt::format("missing entry \"{}\" (the generator)", kRngEntry));
  if (scheduler && scheduler_part.empty())
    problems.push_back("a scheduler was given but the file holds no scheduler entries");
  if (!scheduler && !scheduler_part.empty())
    problems.push_back(
        fmt::format("the file holds a scheduler (\"scheduler.{}\", ...) but none was given",
                    scheduler_part.begin()->first));
  if (loader != nullptr && loader_part.empty())
    problems.push_back("a loader was given but the file holds no loader entries");
  if (loader == nullptr && !loader_part.empty())
    problems.push_back(
        fmt::format("the file holds a loader position (\"loader.{}\", ...) but no loader was given",
                    loader_part.begin()->first));
  // The loader's part is checked on a copy (it shares only the dataset), so that loading it
  // below cannot fail and a refused file never needs to put a loader back.
  if (loader != nullptr && !loader_part.empty()) {
    try {
      data::DataLoader probe = *loader;
      probe.load_state_dict(loader_part);
    } catch (const Error& error) {
      problems.push_back(
          fmt::format("the loader part (entries \"loader.*\") does not fit: {}", error.what()));
    }
  }
  check_model_part(model_part, model.state_dict(), problems);
  if (!problems.empty()) throw fail(fmt::format("{}", fmt::join(problems, "; ")));

  // Each part's own load validates it whole and changes nothing when it throws; the parts that
  // went in before it are rolled back from these copies (state_dict() returns copies), so a
  // refused checkpoint leaves every object bit-identical. The model, checked above and all or
  // nothing itself, goes last and needs no copy.
  const StateDict optimizer_before = optimizer.state_dict();
  const StateDict scheduler_before = scheduler ? scheduler.state_dict() : StateDict{};
  const Tensor rng_before = get_rng_state();
  int loaded = 0;
  std::string_view part = "rng";
  try {
    set_rng_state(rng_state);
    ++loaded;
    part = "optimizer";
    optimizer.load_state_dict(optimizer_part);
    ++loaded;
    part = "scheduler";
    if (scheduler) scheduler.load_state_dict(scheduler_part);
    ++loaded;
    part = "model";
    model.load_state_dict(model_part, /*strict=*/true);
  } catch (const Error& error) {
    if (loaded >= 3 && scheduler) scheduler.load_state_dict(scheduler_before);
    if (loaded >= 2) optimizer.load_state_dict(optimizer_before);
    if (loaded >= 1) set_rng_state(rng_before);
    throw fail(
        fmt::format("the {} part (entries \"{}.*\") does not fit: {}", part, part, error.what()));
  }
  // Checked on a copy above: this cannot throw, so it goes last with nothing to roll back.
  if (loader != nullptr) loader->load_state_dict(loader_part);
  return metadata;
}

}  // namespace tg
