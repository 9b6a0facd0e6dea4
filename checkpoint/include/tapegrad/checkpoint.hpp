// tg::save_checkpoint and tg::load_checkpoint: model, optimizer, scheduler and generator in one
// file.
#pragma once

#include <cstddef>
#include <string>

#include "tapegrad/autograd/serialize.hpp"
#include "tapegrad/nn/module.hpp"
#include "tapegrad/optim/optimizer.hpp"
#include "tapegrad/optim/scheduler.hpp"

namespace tg {

namespace data {
class DataLoader;
}  // namespace data

/// Either kind of scheduler, or none: LRScheduler and ReduceLROnPlateau share no base, so a
/// checkpoint takes this instead of two overloads (whose `nullptr` defaults would be ambiguous).
class SchedulerRef {
 public:
  /// No scheduler.
  SchedulerRef(std::nullptr_t = nullptr) {}
  /// An epoch-driven scheduler (StepLR, ExponentialLR, CosineAnnealingLR, LinearLR), or null.
  SchedulerRef(optim::LRScheduler* scheduler) : epoch_driven_(scheduler) {}
  /// A ReduceLROnPlateau, or null.
  SchedulerRef(optim::ReduceLROnPlateau* scheduler) : plateau_(scheduler) {}
  /// An epoch-driven scheduler.
  SchedulerRef(optim::LRScheduler& scheduler) : epoch_driven_(&scheduler) {}
  /// A ReduceLROnPlateau.
  SchedulerRef(optim::ReduceLROnPlateau& scheduler) : plateau_(&scheduler) {}

  /// Whether a scheduler was given.
  explicit operator bool() const { return epoch_driven_ != nullptr || plateau_ != nullptr; }
  /// The scheduler's state_dict(); call only when one was given.
  StateDict state_dict() const;
  /// The scheduler's load_state_dict(state); call only when one was given.
  void load_state_dict(const StateDict& state) const;

 private:
  optim::LRScheduler* epoch_driven_ = nullptr;
  optim::ReduceLROnPlateau* plateau_ = nullptr;
};

/// Writes everything a training run needs to continue exactly to one safetensors file (see
/// tg::save; atomic and CRC-checked): the model's state_dict() under `model.`, the optimizer's
/// under `optimizer.`, the scheduler's (if given) under `scheduler.` and the global generator
/// under `rng.state`, with `metadata` (such as the epoch) in the header. Throws tg::Error
/// naming the file on any failure, the previous file at `path` then kept whole.
///
///     tg::save_checkpoint("run.ckpt", model, optimizer, &scheduler, {{"epoch", "3"}});
void save_checkpoint(const std::string& path, const nn::Module& model,
                     const optim::Optimizer& optimizer, SchedulerRef scheduler = nullptr,
                     const Metadata& metadata = {});

/// Restores a save_checkpoint() file into `model`, `optimizer`, `scheduler` and the global
/// generator, and returns its metadata. All or nothing: the file is validated whole, every
/// part must match its object (names, shapes and dtypes of the model, the optimizer's type and
/// parameter layout, the scheduler's kind, and no part missing or left over), and on any
/// problem tg::Error naming the file and the entry is thrown with model, optimizer, scheduler
/// and generator bit-identical to before.
///
///     const tg::Metadata metadata = tg::load_checkpoint("run.ckpt", model, optimizer, &scheduler);
///     const int first_epoch = std::stoi(metadata.at("epoch")) + 1;
Metadata load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer,
                         SchedulerRef scheduler = nullptr);

/// The optional parts of a checkpoint besides model and optimizer, named at the call:
/// `{.scheduler = &scheduler, .loader = &loader, .metadata = {{"note", "..."}}}`.
struct CheckpointParts {
  SchedulerRef scheduler = nullptr;    ///< either kind of scheduler, or none
  data::DataLoader* loader = nullptr;  ///< the training loader, whose position is saved
  Metadata metadata = {};              ///< strings for the file's header (save only)
};

/// save_checkpoint() with the loader's position too (its state_dict() under `loader.`: epoch,
/// batch within the epoch and shuffle seed). Taken after any batch, inside the loop, and
/// loaded in a new process, the run continues with the next batch and ends bit for bit where
/// the uninterrupted run ends, with no set_epoch call.
///
///     tg::save_checkpoint("run.ckpt", model, optimizer, {.scheduler = &scheduler, .loader =
///     &loader});
void save_checkpoint(const std::string& path, const nn::Module& model,
                     const optim::Optimizer& optimizer, const CheckpointParts& parts);

/// load_checkpoint() with the loader's position too: afterwards loader.epoch() is the epoch the
/// saved run was in and the next `for` over the loader resumes after the last batch it had been
/// handed. All or nothing as above; a loader given for a file without one, or the reverse,
/// throws tg::Error. `parts.metadata` is ignored; the file's metadata is returned.
///
///     tg::load_checkpoint("run.ckpt", model, optimizer, {.scheduler = &scheduler, .loader =
///     &loader}); for (int64_t epoch = loader.epoch(); epoch < epochs; ++epoch)
///       for (auto [x, y] : loader) { /* ... */ }
Metadata load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer& optimizer,
                         const CheckpointParts& parts);

}  // namespace tg
