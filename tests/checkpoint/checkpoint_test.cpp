// tg::save_checkpoint and tg::load_checkpoint: one file, four parts, restored all or nothing.
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tapegrad.hpp>

#include "support/files.hpp"
#include "support/testing.hpp"

using tg::testing::Bytes;
using tg::testing::TempDir;

namespace {

// Raw bytes of a tensor, with its dtype and shape: equal means bit-identical.
std::string fingerprint(const tg::Tensor& t) {
  const void* data = t.dtype() == tg::f32   ? static_cast<const void*>(t.data<float>())
                     : t.dtype() == tg::f64 ? static_cast<const void*>(t.data<double>())
                                            : static_cast<const void*>(t.data<int64_t>());
  return std::string(tg::dtype_name(t.dtype())) + tg::format_shape(t.shape()) +
         std::string(static_cast<const char*>(data),
                     static_cast<size_t>(t.numel() * tg::element_size(t.dtype())));
}

// A model, its optimizer and scheduler, trained a few steps so that every part has state.
struct Training {
  tg::nn::Sequential model;
  std::unique_ptr<tg::optim::Optimizer> optimizer;
  std::unique_ptr<tg::optim::LRScheduler> step_lr;
  std::unique_ptr<tg::optim::ReduceLROnPlateau> plateau;

  Training(uint64_t seed, const std::string& optimizer_kind = "adam",
           const std::string& scheduler_kind = "step", int steps = 2, int64_t width = 4)
      : model((tg::manual_seed(seed), tg::nn::Linear(3, width)), tg::nn::ReLU(),
              tg::nn::Linear(width, 2)) {
    if (optimizer_kind == "adam")
      optimizer =
          std::make_unique<tg::optim::Adam>(model.parameters(), tg::optim::AdamOptions{.lr = 0.01});
    else
      optimizer = std::make_unique<tg::optim::SGD>(
          model.parameters(), tg::optim::SGDOptions{.lr = 0.1, .momentum = 0.9});
    if (scheduler_kind == "step")
      step_lr =
          std::make_unique<tg::optim::StepLR>(*optimizer, tg::optim::StepLROptions{.step_size = 1});
    else if (scheduler_kind == "plateau")
      plateau = std::make_unique<tg::optim::ReduceLROnPlateau>(*optimizer);
    for (int i = 0; i < steps; ++i) {
      optimizer->zero_grad();
      tg::F::mse_loss(model(tg::randn({5, 3})), tg::randn({5, 2})).backward();
      optimizer->step();
      if (step_lr) step_lr->step();
      if (plateau) plateau->step(1.0 / (i + 1));
    }
  }

  tg::SchedulerRef scheduler() const {
    if (step_lr) return step_lr.get();
    if (plateau) return plateau.get();
    return nullptr;
  }

  // Every part's state, bit for bit: model, optimizer, scheduler and the global generator.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& [name, t] : model.state_dict()) out["model." + name] = fingerprint(t);
    for (const auto& [name, t] : optimizer->state_dict()) out["optimizer." + name] = fingerprint(t);
    if (scheduler())
      for (const auto& [name, t] : scheduler().state_dict())
        out["scheduler." + name] = fingerprint(t);
    out["rng"] = fingerprint(tg::get_rng_state());
    return out;
  }
};

// The entries of a checkpoint, changed by `edit`, written back as a valid file.
std::string rewritten(const TempDir& dir, const std::string& source,
                      const std::function<void(tg::StateDict&)>& edit) {
  tg::Metadata metadata;
  tg::StateDict state = tg::load(source, &metadata);
  edit(state);
  const std::string path = dir.file("edited.ckpt");
  tg::save(state, path, metadata);
  return path;
}

std::string first_key_with_prefix(const tg::StateDict& state, const std::string& prefix) {
  for (const auto& [name, tensor] : state)
    if (name.starts_with(prefix)) return name;
  FAIL("no entry starts with " << prefix);
  return "";
}

}  // namespace

TEST_CASE("a checkpoint restores model, optimizer, scheduler and generator, and its metadata") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  Training saved(1);
  tg::save_checkpoint(path, saved.model, *saved.optimizer, saved.scheduler(), {{"epoch", "4"}});
  const auto expected = saved.snapshot();

  const tg::StateDict file = tg::load(path);
  for (const char* prefix : {"model.", "optimizer.", "scheduler.", "rng."})
    CHECK(!first_key_with_prefix(file, prefix).empty());
  CHECK(file.contains("model.0.weight"));
  CHECK(file.contains("rng.state"));

  tg::manual_seed(99);
  Training restored(2, "adam", "step", 1);
  const tg::Tensor weight_handle = restored.model.parameters()[0];
  const float* storage = weight_handle.data<float>();
  const tg::Metadata metadata =
      tg::load_checkpoint(path, restored.model, *restored.optimizer, restored.scheduler());
  CHECK(metadata == tg::Metadata{{"epoch", "4"}});
  CHECK(restored.snapshot() == expected);
  CHECK(weight_handle.data<float>() == storage);  // loaded into the existing parameters
  // The generator continues where the saved run's did.
  tg::save_checkpoint(path, saved.model, *saved.optimizer, saved.scheduler());
  const std::vector<double> next = tg::rand({3}).to_vector();
  tg::load_checkpoint(path, restored.model, *restored.optimizer, restored.scheduler());
  CHECK(tg::rand({3}).to_vector() == next);
}

TEST_CASE("a checkpoint without a scheduler, and ReduceLROnPlateau's counters, round-trip") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  SUBCASE("no scheduler") {
    Training saved(1, "sgd", "none");
    tg::save_checkpoint(path, saved.model, *saved.optimizer);
    Training restored(2, "sgd", "none", 1);
    tg::load_checkpoint(path, restored.model, *restored.optimizer);
    CHECK(restored.snapshot() == saved.snapshot());
  }
  SUBCASE("ReduceLROnPlateau") {
    Training saved(1, "sgd", "plateau", 3);
    tg::save_checkpoint(path, saved.model, *saved.optimizer, saved.plateau.get());
    Training restored(2, "sgd", "plateau", 1);
    tg::load_checkpoint(path, restored.model, *restored.optimizer, restored.plateau.get());
    CHECK(restored.snapshot() == saved.snapshot());
    CHECK(restored.plateau->best() == saved.plateau->best());
    CHECK(restored.plateau->num_bad_epochs() == saved.plateau->num_bad_epochs());
  }
}

TEST_CASE("a checkpoint that does not fit throws naming the file and entry, nothing changed") {
  TempDir dir;
  const std::string good = dir.file("good.ckpt");
  Training saved(1);
  tg::save_checkpoint(good, saved.model, *saved.optimizer, saved.scheduler(), {{"epoch", "2"}});
  const Bytes bytes = tg::testing::read_file(good);

  auto expect_refused = [&](Training& target, const std::string& path,
                            std::initializer_list<const char*> fragments) {
    const auto before = target.snapshot();
    const std::string message = tg::testing::error_message(
        [&] { tg::load_checkpoint(path, target.model, *target.optimizer, target.scheduler()); });
    CAPTURE(message);
    CHECK(tg::testing::contains(message, "tg::load_checkpoint"));
    CHECK(tg::testing::contains(message, path));
    for (const char* fragment : fragments) CHECK(tg::testing::contains(message, fragment));
    CHECK(target.snapshot() == before);
  };

  SUBCASE("another optimizer type") {
    Training target(2, "sgd");
    expect_refused(target, good, {"optimizer"});
  }
  SUBCASE("another parameter count for the optimizer") {
    Training target(2);
    target.optimizer = std::make_unique<tg::optim::Adam>(
        std::vector<tg::Tensor>{target.model.parameters()[0]}, tg::optim::AdamOptions{});
    target.step_lr = std::make_unique<tg::optim::StepLR>(*target.optimizer,
                                                         tg::optim::StepLROptions{.step_size = 1});
    expect_refused(target, good, {"optimizer"});
  }
  SUBCASE("a model of another shape") {
    Training target(2, "adam", "step", 2, /*width=*/5);
    expect_refused(target, good, {"\"model.0.weight\"", "f32 [4, 3]", "f32 [5, 3]"});
  }
  SUBCASE("a model of another dtype") {
    Training target(2);
    target.model.to(tg::f64);
    expect_refused(target, good, {"\"model.0.weight\"", "f32 [4, 3]", "f64 [4, 3]"});
  }
  SUBCASE("a missing model entry") {
    Training target(2);
    const std::string path =
        rewritten(dir, good, [](tg::StateDict& s) { s.erase("model.2.bias"); });
    expect_refused(target, path, {"missing entry \"model.2.bias\""});
  }
  SUBCASE("an extra model entry, and an entry of no part") {
    Training target(2);
    expect_refused(
        target, rewritten(dir, good, [](tg::StateDict& s) { s["model.3.weight"] = tg::ones({1}); }),
        {"\"model.3.weight\"", "not a parameter or buffer"});
    expect_refused(target,
                   rewritten(dir, good, [](tg::StateDict& s) { s["extra"] = tg::ones({1}); }),
                   {"\"extra\"", "no part"});
  }
  SUBCASE("a missing optimizer entry") {
    Training target(2);
    expect_refused(
        target,
        rewritten(dir, good, [](tg::StateDict& s) { s.erase("optimizer.param_groups.0.lr"); }),
        {"optimizer", "missing entry param_groups.0.lr"});
  }
  SUBCASE("an optimizer entry of the wrong shape or dtype") {
    Training target(2);
    std::string changed;
    expect_refused(target,
                   rewritten(dir, good,
                             [&](tg::StateDict& s) {
                               changed = first_key_with_prefix(s, "optimizer.state.");
                               s[changed] = tg::zeros({7, 7});
                             }),
                   {"optimizer"});
    expect_refused(
        target,
        rewritten(dir, good, [&](tg::StateDict& s) { s[changed] = s[changed].to(tg::f64); }),
        {"optimizer"});
  }
  SUBCASE("a scheduler of another kind: the optimizer, loaded first, is rolled back") {
    Training target(2, "adam", "plateau");
    expect_refused(target, good, {"scheduler"});
  }
  SUBCASE("the same, into an optimizer that has not stepped yet (no per-parameter state)") {
    Training target(2, "adam", "plateau", /*steps=*/0);
    expect_refused(target, good, {"scheduler"});
  }
  SUBCASE("a scheduler given but none saved, or saved but none given") {
    Training no_scheduler(2, "adam", "none");
    expect_refused(no_scheduler, good, {"none was given"});
    const std::string without = dir.file("without.ckpt");
    tg::save_checkpoint(without, no_scheduler.model, *no_scheduler.optimizer);
    Training target(3);
    expect_refused(target, without, {"no scheduler entries"});
  }
  SUBCASE("a malformed generator state") {
    Training target(2);
    expect_refused(
        target,
        rewritten(dir, good,
                  [](tg::StateDict& s) { s["rng.state"] = tg::zeros({4}, {.dtype = tg::i64}); }),
        {"rng", "all-zero"});
    expect_refused(target, rewritten(dir, good, [](tg::StateDict& s) { s.erase("rng.state"); }),
                   {"missing entry \"rng.state\""});
  }
  SUBCASE("a truncated file") {
    Training target(2);
    const std::string path = dir.file("truncated.ckpt");
    tg::testing::write_file(path, Bytes(bytes.begin(), bytes.end() - 5));
    expect_refused(target, path, {"data section"});
  }
  SUBCASE("a flipped bit") {
    Training target(2);
    const std::string path = dir.file("flipped.ckpt");
    for (size_t at = 0; at < bytes.size(); at += 97) {
      Bytes corrupt = bytes;
      corrupt[at] ^= 0x08;
      tg::testing::write_file(path, corrupt);
      CAPTURE(at);
      const auto before = target.snapshot();
      try {
        tg::load_checkpoint(path, target.model, *target.optimizer, target.scheduler());
        // A flip the format tolerates (JSON whitespace) must still load the saved state.
        CHECK(target.snapshot() == saved.snapshot());
        target = Training(2);
      } catch (const tg::Error& error) {
        CHECK(tg::testing::contains(error.what(), path));
        CHECK(target.snapshot() == before);
      }
    }
  }
}

TEST_CASE("save_checkpoint refuses reserved metadata keys and keeps the previous file") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  Training saved(1);
  tg::save_checkpoint(path, saved.model, *saved.optimizer, saved.scheduler());
  const Bytes before = tg::testing::read_file(path);
  TG_CHECK_ERROR(
      tg::save_checkpoint(path, saved.model, *saved.optimizer, saved.scheduler(), {{"crc32", "0"}}),
      "tg::save_checkpoint", "reserved", "crc32");
  CHECK(tg::testing::read_file(path) == before);
}

TEST_CASE("CheckpointParts: a loader's position inside an epoch round-trips with the rest") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  auto make_loader = [] {
    tg::data::TensorDataset data(tg::arange(10).reshape({10, 1}), tg::arange(10));
    return tg::data::DataLoader(data, {.batch_size = 3, .shuffle = true, .seed = 5});
  };
  Training saved(1);
  tg::data::DataLoader loader = make_loader();
  (void)loader.begin();  // epoch 0, nothing handed out
  std::vector<double> rest_of_epoch_1;
  int64_t handed = 0;
  for (auto [x, y] : loader) {  // epoch 1: a checkpoint after its second batch
    (void)x;
    if (++handed == 2) {
      tg::save_checkpoint(
          path, saved.model, *saved.optimizer,
          {.scheduler = saved.scheduler(), .loader = &loader, .metadata = {{"note", "mid-epoch"}}});
    } else if (handed > 2) {
      for (double v : y.to_vector()) rest_of_epoch_1.push_back(v);
    }
  }
  const tg::StateDict file = tg::load(path);
  CHECK(file.at("loader.epoch").item() == 1);
  CHECK(file.at("loader.batch").item() == 2);

  Training restored(2, "adam", "step", 1);
  tg::data::DataLoader fresh = make_loader();
  const tg::Metadata metadata =
      tg::load_checkpoint(path, restored.model, *restored.optimizer,
                          {.scheduler = restored.scheduler(), .loader = &fresh});
  CHECK(metadata.at("note") == "mid-epoch");
  CHECK(restored.snapshot() == saved.snapshot());
  CHECK(fresh.epoch() == 1);  // no set_epoch: the checkpoint held it
  CHECK(fresh.next_batch() == 2);
  std::vector<double> resumed;
  for (auto [x, y] : fresh) {
    (void)x;
    for (double v : y.to_vector()) resumed.push_back(v);
  }
  CHECK(resumed.size() == 4);  // batches 2 and 3 of 3 + 3 + 3 + 1
  CHECK(resumed == rest_of_epoch_1);
}

TEST_CASE("CheckpointParts: a loader given without one saved, or the reverse, is refused") {
  TempDir dir;
  const std::string with_loader = dir.file("with.ckpt"), without = dir.file("without.ckpt");
  tg::data::DataLoader loader(tg::data::TensorDataset(tg::zeros({4, 1}), tg::zeros({4})),
                              {.batch_size = 2});
  Training saved(1);
  tg::save_checkpoint(with_loader, saved.model, *saved.optimizer,
                      {.scheduler = saved.scheduler(), .loader = &loader});
  tg::save_checkpoint(without, saved.model, *saved.optimizer, saved.scheduler());
  Training target(2);
  const auto before = target.snapshot();
  TG_CHECK_ERROR(
      tg::load_checkpoint(with_loader, target.model, *target.optimizer, target.scheduler()),
      "tg::load_checkpoint", with_loader.c_str(), "loader.", "no loader was given");
  TG_CHECK_ERROR(tg::load_checkpoint(without, target.model, *target.optimizer,
                                     {.scheduler = target.scheduler(), .loader = &loader}),
                 "tg::load_checkpoint", without.c_str(), "no loader entries");
  SUBCASE("a position past the loader's epoch: nothing changes, the loader included") {
    tg::data::DataLoader small(tg::data::TensorDataset(tg::zeros({2, 1}), tg::zeros({2})),
                               {.batch_size = 2});
    const std::string path = rewritten(dir, with_loader, [](tg::StateDict& s) {
      s["loader.batch"] = tg::tensor({2.0}, {}, {.dtype = tg::i64});
    });
    small.set_epoch(3);
    TG_CHECK_ERROR(tg::load_checkpoint(path, target.model, *target.optimizer,
                                       {.scheduler = target.scheduler(), .loader = &small}),
                   "tg::load_checkpoint", "loader", "batch", "got 2");
    CHECK(small.epoch() == 3);
    CHECK(small.next_batch() == 0);
  }
  CHECK(target.snapshot() == before);
}
