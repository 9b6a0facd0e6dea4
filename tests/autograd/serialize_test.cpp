// tg::save and tg::load: state dicts with metadata round-trip bit for bit; bad files throw.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/files.hpp"
#include "support/testing.hpp"

using tg::testing::Bytes;
using tg::testing::TempDir;

namespace {

// A tensor's raw bytes: the yardstick for "bit for bit".
std::string raw(const tg::Tensor& t) {
  const void* data = t.dtype() == tg::f32   ? static_cast<const void*>(t.data<float>())
                     : t.dtype() == tg::f64 ? static_cast<const void*>(t.data<double>())
                                            : static_cast<const void*>(t.data<int64_t>());
  return std::string(static_cast<const char*>(data),
                     static_cast<size_t>(t.numel() * tg::element_size(t.dtype())));
}

nlohmann::json header_of(const Bytes& file) {
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | file[static_cast<size_t>(i)];
  return nlohmann::json::parse(
      std::string(file.begin() + 8, file.begin() + 8 + static_cast<long>(length)));
}

tg::StateDict sample_state() {
  tg::manual_seed(3);
  return {{"a.weight", tg::randn({2, 3})},
          {"b", tg::randn({4}, {.dtype = tg::f64})},
          {"step", tg::tensor({7, -1}, {.dtype = tg::i64})},
          {"scalar", tg::scalar(0.125, {.dtype = tg::f64})},
          {"empty", tg::zeros({0, 5})}};
}

}  // namespace

TEST_CASE("save then load round-trips every tensor bit for bit, with dtypes, shapes and metadata") {
  TempDir dir;
  const std::string path = dir.file("state.safetensors");
  const tg::StateDict saved = sample_state();
  tg::save(saved, path, {{"epoch", "3"}, {"note", "warm-up done"}});
  tg::Metadata metadata;
  const tg::StateDict loaded = tg::load(path, &metadata);
  REQUIRE(loaded.size() == saved.size());
  for (const auto& [name, tensor] : saved) {
    CAPTURE(name);
    REQUIRE(loaded.contains(name));
    const tg::Tensor& back = loaded.at(name);
    CHECK(back.dtype() == tensor.dtype());
    CHECK(back.shape() == tensor.shape());
    CHECK(raw(back) == raw(tensor));
    CHECK(back.impl() != tensor.impl());  // new tensors, not the saved ones
  }
  // The reserved keys stay out of the user's metadata.
  CHECK(metadata == tg::Metadata{{"epoch", "3"}, {"note", "warm-up done"}});
  CHECK(tg::load(path).size() == saved.size());
}

TEST_CASE("the metadata sits beside tapegrad's reserved keys in __metadata__") {
  TempDir dir;
  const std::string path = dir.file("state.safetensors");
  tg::save({{"w", tg::ones({2})}}, path, {{"epoch", "12"}});
  const nlohmann::json header = header_of(tg::testing::read_file(path));
  const nlohmann::json& metadata = header.at("__metadata__");
  CHECK(metadata.at("format") == "tapegrad");
  CHECK(metadata.at("version") == "1");
  CHECK(metadata.at("epoch") == "12");
  CHECK(metadata.at("crc32").get<std::string>().size() == 8);
  CHECK(header.at("w") ==
        nlohmann::json::parse(R"({"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})"));
  CHECK(tg::is_reserved_metadata_key("crc32"));
  CHECK_FALSE(tg::is_reserved_metadata_key("epoch"));
}

TEST_CASE("save rejects reserved metadata keys, a __metadata__ tensor and undefined tensors") {
  TempDir dir;
  const std::string path = dir.file("state.safetensors");
  for (const char* key : {"format", "version", "crc32"}) {
    CAPTURE(key);
    TG_CHECK_ERROR(tg::save({{"w", tg::ones({1})}}, path, {{key, "x"}}), "tg::save", "reserved",
                   key);
  }
  TG_CHECK_ERROR(tg::save({{"__metadata__", tg::ones({1})}}, path), "tg::save", "__metadata__");
  TG_CHECK_ERROR(tg::save({{"w", tg::Tensor()}}, path), "tg::save", "\"w\"", "undefined");
  CHECK_FALSE(std::filesystem::exists(path));  // nothing written, no temporary file
  CHECK(std::filesystem::is_empty(dir.path));
}

TEST_CASE("a bad file throws tg::Error naming the file, the entry and the problem") {
  TempDir dir;
  const std::string path = dir.file("state.safetensors");
  tg::save(sample_state(), path, {{"epoch", "1"}});
  const Bytes file = tg::testing::read_file(path);
  const std::string bad = dir.file("bad.safetensors");
  SUBCASE("truncated") {
    tg::testing::write_file(bad, Bytes(file.begin(), file.end() - 1));
    TG_CHECK_ERROR(tg::load(bad), "tg::load", bad.c_str(), "data section");
  }
  SUBCASE("a flipped data bit") {
    Bytes corrupt = file;
    corrupt[file.size() - 2] ^= 0x04;
    tg::testing::write_file(bad, corrupt);
    TG_CHECK_ERROR(tg::load(bad), "tg::load", bad.c_str(), "CRC-32", "corrupt");
  }
  SUBCASE("an entry whose size does not match its shape") {
    std::string text(file.begin(), file.end());
    const size_t at = text.find(R"("shape":[2,3])");
    REQUIRE(at != std::string::npos);
    text.replace(at, 13, R"("shape":[3,3])");
    tg::testing::write_text(bad, text);
    TG_CHECK_ERROR(tg::load(bad), "tg::load", bad.c_str(), "\"a.weight\"", "[3, 3]", "needs 36");
  }
  SUBCASE("a metadata value that is not a string") {
    std::string text(file.begin(), file.end());
    const size_t at = text.find(R"("epoch":"1")");
    REQUIRE(at != std::string::npos);
    text.replace(at, 11, R"("epoch": 1 )");
    tg::testing::write_text(bad, text);
    TG_CHECK_ERROR(tg::load(bad), "tg::load", "\"epoch\"", "not a string");
  }
  SUBCASE("no file") { TG_CHECK_ERROR(tg::load(dir.file("absent")), "tg::load", "cannot open"); }
}

TEST_CASE("save is atomic: a failed save keeps the old file and leaves no temporary file") {
  TempDir dir;
  const std::string path = dir.file("state.safetensors");
  tg::save({{"w", tg::ones({3})}}, path);
  const Bytes before = tg::testing::read_file(path);
  std::filesystem::create_directory(path + ".tmp-" + std::to_string(::getpid()));
  TG_CHECK_ERROR(tg::save({{"w", tg::zeros({3})}}, path), "tg::save", path.c_str(),
                 "cannot create");
  std::filesystem::remove(path + ".tmp-" + std::to_string(::getpid()));
  CHECK(tg::testing::read_file(path) == before);
}
