// Interrupted and failed saves leave the previous file intact; bad loads leave the model intact.
//
// What survives what:
// - save() failing with an error (disk full, file size limit, I/O error) throws tg::Error,
//   removes its temporary file and leaves the file at the target path as it was.
// - a process SIGKILLed inside save() cannot clean up: its temporary file (next to the
//   target, so that the final rename stays on one file system) may remain, which nothing can
//   prevent; the target path still holds the previous complete file, never a partial one,
//   because the new file only takes the target's name by an atomic rename once fully written.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "tapegrad.hpp"

namespace fs = std::filesystem;

namespace {

using tg::testing::TempDir;

std::vector<uint8_t> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every parameter's raw bytes, in named_parameters() order: the yardstick for "bit-exact".
std::vector<uint8_t> parameter_bytes(const tg::nn::Module& model) {
  std::vector<uint8_t> bytes;
  for (const auto& [name, t] : model.named_parameters()) {
    const auto* begin = reinterpret_cast<const uint8_t*>(t.data<float>());
    bytes.insert(bytes.end(), begin, begin + t.numel() * static_cast<int64_t>(sizeof(float)));
  }
  return bytes;
}

// Tens of MB, so that writing it takes long enough to be interrupted.
tg::nn::Sequential big_model() {
  return tg::nn::Sequential(tg::nn::Linear(1024, 2048), tg::nn::ReLU(), tg::nn::Linear(2048, 2048));
}

tg::nn::Sequential small_model() {
  return tg::nn::Sequential(tg::nn::Linear(4, 8), tg::nn::ReLU(), tg::nn::Linear(8, 2));
}

// The exit codes of a child that tries one save.
constexpr int kSavedFine = 0, kThrewTgError = 10, kThrewOther = 11;

int save_in_child(const tg::nn::Module& model, const fs::path& path, rlim_t file_size_limit) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Past the limit write() fails with EFBIG instead of raising SIGXFSZ, like a full disk.
    signal(SIGXFSZ, SIG_IGN);
    rlimit limit{file_size_limit, file_size_limit};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(99);
    try {
      tg::nn::save(model, path.string());
      _exit(kSavedFine);
    } catch (const tg::Error&) {
      _exit(kThrewTgError);
    } catch (...) {
      _exit(kThrewOther);
    }
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("a save that fails partway throws tg::Error, cleans up and keeps the previous file") {
  tg::set_num_threads(1);  // fork() copies only the calling thread
  TempDir dir;
  const fs::path target = dir.path / "model.safetensors";
  tg::manual_seed(1);
  tg::nn::Sequential previous = big_model();
  tg::nn::save(previous, target.string());
  const std::vector<uint8_t> previous_file = read_bytes(target);
  REQUIRE(previous_file.size() > 20'000'000);

  tg::manual_seed(2);
  tg::nn::Sequential next = big_model();
  for (rlim_t limit : {rlim_t{0}, rlim_t{4096}, rlim_t{1} << 20, rlim_t{16} << 20}) {
    CAPTURE(limit);
    CHECK(save_in_child(next, target, limit) == kThrewTgError);
    CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});  // no temp file left
    CHECK(read_bytes(target) == previous_file);
    tg::manual_seed(3);
    tg::nn::Sequential reloaded = big_model();
    tg::nn::load(reloaded, target.string());
    CHECK(parameter_bytes(reloaded) == parameter_bytes(previous));
  }
  SUBCASE("and with no limit the same save goes through") {
    CHECK(save_in_child(next, target, RLIM_INFINITY) == kSavedFine);
    tg::nn::Sequential reloaded = big_model();
    tg::nn::load(reloaded, target.string());
    CHECK(parameter_bytes(reloaded) == parameter_bytes(next));
  }
}

TEST_CASE("a process killed while saving leaves the previous file whole at the target path") {
  tg::set_num_threads(1);
  TempDir dir;
  const fs::path target = dir.path / "model.safetensors";
  tg::manual_seed(1);
  tg::nn::Sequential previous = big_model();
  tg::nn::save(previous, target.string());
  const std::vector<uint8_t> previous_file = read_bytes(target);
  tg::manual_seed(2);
  tg::nn::Sequential next = big_model();

  // Kill the child once its temporary file has appeared and is still short of complete. A
  // child that finishes first (a very fast disk) is retried; a kill landing mid-write is the
  // case under test.
  bool killed_mid_write = false;
  for (int attempt = 0; attempt < 20 && !killed_mid_write; ++attempt) {
    tg::nn::save(previous, target.string());  // the previous file again, whatever came before
    for (const std::string& name : dir.files())
      if (name != "model.safetensors") fs::remove(dir.path / name);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        tg::nn::save(next, target.string());
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      bool partial = false;
      for (const auto& entry : fs::directory_iterator(dir.path)) {
        std::error_code error;
        const auto size = fs::file_size(entry.path(), error);
        if (entry.path().filename() != "model.safetensors" && !error && size > 0 &&
            size < previous_file.size())
          partial = true;
      }
      if (partial) {
        killed_mid_write = kill(pid, SIGKILL) == 0;
        break;
      }
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;  // finished before we saw it
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (killed_mid_write) CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  }
  REQUIRE(killed_mid_write);

  // The target is the previous file, bit for bit, and loads as the previous model.
  CHECK(read_bytes(target) == previous_file);
  tg::nn::Sequential reloaded = big_model();
  tg::nn::load(reloaded, target.string());
  CHECK(parameter_bytes(reloaded) == parameter_bytes(previous));

  // What remains besides it is the killed save's temporary file, named so that it cannot be
  // mistaken for a model; the next save to the same path succeeds regardless.
  const std::vector<std::string> files = dir.files();
  CHECK(files.size() <= 2);
  for (const std::string& name : files) MESSAGE("left after SIGKILL: " << name);
  tg::nn::save(next, target.string());
  tg::nn::load(reloaded, target.string());
  CHECK(parameter_bytes(reloaded) == parameter_bytes(next));
}

TEST_CASE("saving where no file can be written throws tg::Error") {
  TempDir dir;
  tg::nn::Sequential model = small_model();
  CHECK_THROWS_AS(tg::nn::save(model, (dir.path / "missing" / "model.safetensors").string()),
                  tg::Error);
  fs::create_directory(dir.path / "a_directory");
  CHECK_THROWS_AS(tg::nn::save(model, (dir.path / "a_directory").string()), tg::Error);
  CHECK(fs::is_directory(dir.path / "a_directory"));
  CHECK(dir.files() == std::vector<std::string>{"a_directory"});
}

TEST_CASE("loading a file that does not fit fails with tg::Error and leaves the model untouched") {
  TempDir dir;
  tg::manual_seed(5);
  tg::nn::Sequential saved = small_model();
  const fs::path path = dir.path / "small.safetensors";
  tg::nn::save(saved, path.string());
  const std::vector<uint8_t> file = read_bytes(path);

  tg::manual_seed(6);
  auto expect_untouched_failure = [&](tg::nn::Module& model, const fs::path& bad) {
    const std::vector<uint8_t> before = parameter_bytes(model);
    CHECK_THROWS_AS(tg::nn::load(model, bad.string()), tg::Error);
    CHECK(parameter_bytes(model) == before);
  };

  SUBCASE("another architecture: different shapes") {
    tg::nn::Sequential wider(tg::nn::Linear(4, 9), tg::nn::ReLU(), tg::nn::Linear(9, 2));
    expect_untouched_failure(wider, path);
  }
  SUBCASE("another architecture: different names") {
    tg::nn::Sequential shifted(tg::nn::ReLU(), tg::nn::Linear(4, 8), tg::nn::ReLU(),
                               tg::nn::Linear(8, 2));
    expect_untouched_failure(shifted, path);
  }
  SUBCASE("another architecture: a missing parameter") {
    tg::nn::Sequential no_bias(tg::nn::Linear(4, 8), tg::nn::ReLU(), tg::nn::Linear(8, 2, false));
    expect_untouched_failure(no_bias, path);
  }
  SUBCASE("another architecture: more parameters than the file holds") {
    tg::nn::Sequential deeper(tg::nn::Linear(4, 8), tg::nn::ReLU(), tg::nn::Linear(8, 2),
                              tg::nn::Linear(2, 2));
    expect_untouched_failure(deeper, path);
  }
  SUBCASE("a file from a newer tapegrad (format version 2)") {
    // The version sits in the header's metadata; the CRC covers the data only, so the file is
    // otherwise valid and loads once the version says 1 again.
    std::string text(file.begin(), file.end());
    const size_t at = text.find("\"version\":\"1\"");
    REQUIRE(at != std::string::npos);
    text[at + 11] = '2';
    const fs::path newer = dir.path / "newer.safetensors";
    std::ofstream(newer, std::ios::binary)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
    tg::nn::Sequential model = small_model();
    expect_untouched_failure(model, newer);
    CHECK_THROWS_WITH_AS(tg::nn::load(model, newer.string()), doctest::Contains("version"),
                         tg::Error);
    text[at + 11] = '1';
    std::ofstream(newer, std::ios::binary | std::ios::trunc)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
    tg::nn::load(model, newer.string());
    CHECK(parameter_bytes(model) == parameter_bytes(saved));
  }
  SUBCASE("a file that is not there, or is a directory") {
    tg::nn::Sequential model = small_model();
    expect_untouched_failure(model, dir.path / "absent.safetensors");
    expect_untouched_failure(model, dir.path);
  }
  SUBCASE("a truncated file, at every length") {
    tg::nn::Sequential model = small_model();
    const fs::path bad = dir.path / "truncated.safetensors";
    for (size_t length = 0; length < file.size(); length += 7) {
      std::ofstream(bad, std::ios::binary | std::ios::trunc)
          .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(length));
      expect_untouched_failure(model, bad);
    }
  }
  SUBCASE("one flipped bit anywhere is caught") {
    tg::nn::Sequential model = small_model();
    const fs::path bad = dir.path / "flipped.safetensors";
    for (size_t at = 0; at < file.size(); at += 3) {
      std::vector<uint8_t> corrupt = file;
      corrupt[at] ^= 0x10;
      std::ofstream(bad, std::ios::binary | std::ios::trunc)
          .write(reinterpret_cast<const char*>(corrupt.data()),
                 static_cast<std::streamsize>(corrupt.size()));
      CAPTURE(at);
      const std::vector<uint8_t> before = parameter_bytes(model);
      try {
        tg::nn::load(model, bad.string());
        // A flip that leaves the file meaning the same (JSON whitespace, say) may load, but
        // then it must load the saved values exactly.
        CHECK(parameter_bytes(model) == parameter_bytes(saved));
      } catch (const tg::Error&) {
        CHECK(parameter_bytes(model) == before);
      }
    }
  }
}

namespace {

// A model and a momentum SGD that has stepped once (its buffers as large as the model), so a
// checkpoint of it is about twice the model's size.
struct Trained {
  tg::nn::Sequential model = big_model();
  tg::optim::SGD optimizer{model.parameters(), {.lr = 0.1, .momentum = 0.9}};
  tg::optim::StepLR scheduler{optimizer, {.step_size = 1}};
  explicit Trained(uint64_t seed) {
    tg::manual_seed(seed);
    for (tg::Tensor& p : model.parameters()) tg::nn::init::uniform_(p, -0.1, 0.1);
    optimizer.zero_grad();
    model(tg::randn({2, 1024})).sum().backward();
    optimizer.step();
    scheduler.step();
  }
};

// Loads `path` into fresh objects; true if they then match `expected` bit for bit.
bool loads_as(const fs::path& path, const Trained& expected) {
  Trained fresh(77);
  tg::load_checkpoint(path.string(), fresh.model, fresh.optimizer, fresh.scheduler);
  if (parameter_bytes(fresh.model) != parameter_bytes(expected.model)) return false;
  const tg::StateDict a = fresh.optimizer.state_dict(), b = expected.optimizer.state_dict();
  if (a.size() != b.size()) return false;
  for (const auto& [name, tensor] : a)
    if (tensor.to_vector() != b.at(name).to_vector()) return false;
  return fresh.scheduler.last_epoch() == expected.scheduler.last_epoch();
}

}  // namespace

TEST_CASE("a save_checkpoint that fails partway (file size limit) keeps the previous checkpoint") {
  tg::set_num_threads(1);
  TempDir dir;
  const fs::path target = dir.path / "run.ckpt";
  Trained previous(1);
  tg::save_checkpoint(target.string(), previous.model, previous.optimizer, &previous.scheduler);
  const std::vector<uint8_t> previous_file = read_bytes(target);
  REQUIRE(previous_file.size() > 40'000'000);
  Trained next(2);
  for (rlim_t limit : {rlim_t{0}, rlim_t{4096}, rlim_t{16} << 20, rlim_t{40} << 20}) {
    CAPTURE(limit);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      signal(SIGXFSZ, SIG_IGN);
      rlimit rl{limit, limit};
      if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(99);
      try {
        tg::save_checkpoint(target.string(), next.model, next.optimizer, &next.scheduler);
        _exit(kSavedFine);
      } catch (const tg::Error&) {
        _exit(kThrewTgError);
      } catch (...) {
        _exit(kThrewOther);
      }
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == kThrewTgError);
    CHECK(dir.files() == std::vector<std::string>{"run.ckpt"});
    CHECK(read_bytes(target) == previous_file);
  }
  CHECK(loads_as(target, previous));
}

TEST_CASE("a process killed inside save_checkpoint leaves the previous checkpoint loadable") {
  tg::set_num_threads(1);
  TempDir dir;
  const fs::path target = dir.path / "run.ckpt";
  Trained previous(1);
  Trained next(2);
  tg::save_checkpoint(target.string(), previous.model, previous.optimizer, &previous.scheduler);
  const std::vector<uint8_t> previous_file = read_bytes(target);
  bool killed_mid_write = false;
  for (int attempt = 0; attempt < 20 && !killed_mid_write; ++attempt) {
    for (const std::string& name : dir.files())
      if (name != "run.ckpt") fs::remove(dir.path / name);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      try {
        tg::save_checkpoint(target.string(), next.model, next.optimizer, &next.scheduler);
      } catch (...) {
        _exit(1);
      }
      _exit(0);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      bool partial = false;
      for (const auto& entry : fs::directory_iterator(dir.path)) {
        std::error_code error;
        const auto size = fs::file_size(entry.path(), error);
        if (entry.path().filename() != "run.ckpt" && !error && size > 0 &&
            size < previous_file.size())
          partial = true;
      }
      if (partial) {
        killed_mid_write = kill(pid, SIGKILL) == 0;
        break;
      }
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!killed_mid_write)  // the child finished first: put the previous checkpoint back
      tg::save_checkpoint(target.string(), previous.model, previous.optimizer, &previous.scheduler);
  }
  REQUIRE(killed_mid_write);
  CHECK(read_bytes(target) == previous_file);
  CHECK(loads_as(target, previous));
}
