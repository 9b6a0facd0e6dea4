// tg::nn::save and tg::nn::load: bit-exact round trips, the file layout, and all-or-nothing errors.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <tapegrad/autograd.hpp>
#include <tapegrad/nn.hpp>

#include "support/files.hpp"
#include "support/testing.hpp"

namespace fs = std::filesystem;

namespace {

using tg::testing::TempDir;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string little_endian_u64(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>(value >> (8 * i));
  return out;
}

// A safetensors file from its parts, for hand-made headers.
std::string safetensors(const std::string& header, const std::string& data) {
  return little_endian_u64(header.size()) + header + data;
}

// Every parameter's raw bytes in named_parameters() order: the yardstick for "bit-exact" and
// for "untouched".
std::string parameter_bytes(const tg::nn::Module& model) {
  std::string bytes;
  for (const auto& [name, t] : model.named_parameters()) {
    const char* begin = t.dtype() == tg::f32 ? reinterpret_cast<const char*>(t.data<float>())
                                             : reinterpret_cast<const char*>(t.data<double>());
    bytes.append(begin, static_cast<size_t>(t.numel() * tg::element_size(t.dtype())));
  }
  return bytes;
}

tg::nn::Sequential small_model() {
  return tg::nn::Sequential(tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2));
}

// CRC-32 (IEEE, reflected, polynomial 0xEDB88320) bit by bit, independent of zlib.
uint32_t reference_crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

struct Parsed {
  uint64_t header_length;
  nlohmann::json header;
  std::string data;
};

Parsed parse(const std::string& file) {
  REQUIRE(file.size() >= 8);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | static_cast<unsigned char>(file[static_cast<size_t>(i)]);
  REQUIRE(length <= file.size() - 8);
  return {length, nlohmann::json::parse(file.substr(8, length)), file.substr(8 + length)};
}

}  // namespace

TEST_CASE("the reference CRC-32 gives the standard check value") {
  CHECK(reference_crc32("123456789") == 0xCBF43926u);
}

TEST_CASE("save then load round-trips every parameter bit for bit, into the same tensors") {
  TempDir dir;
  const fs::path path = dir.path / "model.safetensors";
  tg::manual_seed(1);
  tg::nn::Sequential saved = small_model();
  tg::manual_seed(2);
  tg::nn::Sequential loaded = small_model();
  SUBCASE("f32") {}
  SUBCASE("f64") {
    saved.to(tg::f64);
    loaded.to(tg::f64);
  }
  tg::nn::save(saved, path.string());
  REQUIRE(parameter_bytes(loaded) != parameter_bytes(saved));
  const tg::Tensor handle = loaded.at<tg::nn::Linear>(0).weight;
  const void* storage = handle.dtype() == tg::f32 ? static_cast<const void*>(handle.data<float>())
                                                  : static_cast<const void*>(handle.data<double>());
  tg::nn::load(loaded, path.string());
  CHECK(parameter_bytes(loaded) == parameter_bytes(saved));
  // Written through the existing storage, so optimizers holding the handles see the values.
  const void* after = handle.dtype() == tg::f32 ? static_cast<const void*>(handle.data<float>())
                                                : static_cast<const void*>(handle.data<double>());
  CHECK(after == storage);
  CHECK(handle.requires_grad());
  const tg::Tensor x = tg::ones({2, 3}, {.dtype = handle.dtype()});
  CHECK(loaded(x).to_vector() == saved(x).to_vector());
}

TEST_CASE("save overwrites an existing file and leaves no temporary file") {
  TempDir dir;
  const fs::path path = dir.path / "model.safetensors";
  tg::nn::Sequential first = small_model(), second = small_model();
  tg::nn::save(first, path.string());
  tg::nn::save(second, path.string());
  CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
  tg::nn::load(first, path.string());
  CHECK(parameter_bytes(first) == parameter_bytes(second));
}

TEST_CASE("the file is safetensors with tapegrad's metadata and a CRC-32 of the data") {
  TempDir dir;
  const fs::path path = dir.path / "model.safetensors";
  struct Mixed : tg::nn::Module {
    tg::nn::Linear& fc1 = register_module("fc1", tg::nn::Linear(2, 3));
    tg::nn::Linear& fc2 = register_module("fc2", tg::nn::Linear(3, 1, false));
  } model;
  model.fc2.to(tg::f64);
  tg::nn::save(model, path.string());
  const Parsed file = parse(read_bytes(path));

  CHECK(file.header_length % 8 == 0);  // padded with spaces so the data is 8-byte aligned
  const nlohmann::json& metadata = file.header.at("__metadata__");
  CHECK(metadata.at("format") == "tapegrad");
  CHECK(metadata.at("version") == "1");
  char expected_crc[9];
  std::snprintf(expected_crc, sizeof expected_crc, "%08x", reference_crc32(file.data));
  CHECK(metadata.at("crc32") == std::string(expected_crc));

  // [3, 2] f32 = 24 bytes, [3] f32 = 12 bytes, [1, 3] f64 = 24 bytes, back to back
  CHECK(file.header.size() == 4);
  CHECK(file.header.at("fc1.weight") ==
        nlohmann::json::parse(R"({"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]})"));
  CHECK(file.header.at("fc1.bias") ==
        nlohmann::json::parse(R"({"dtype": "F32", "shape": [3], "data_offsets": [24, 36]})"));
  CHECK(file.header.at("fc2.weight") ==
        nlohmann::json::parse(R"({"dtype": "F64", "shape": [1, 3], "data_offsets": [36, 60]})"));
  CHECK(file.data.size() == 60);
  CHECK(file.data == parameter_bytes(model));  // raw little-endian values, in the same order
}

TEST_CASE("a plain safetensors file without tapegrad's metadata loads") {
  TempDir dir;
  const fs::path path = dir.path / "plain.safetensors";
  const float values[2] = {1.5f, -2.0f};
  write_bytes(path, safetensors(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                std::string(reinterpret_cast<const char*>(values), 8)));
  tg::nn::Module model;
  model.register_parameter("w", tg::zeros({2}));
  tg::nn::load(model, path.string());
  TG_CHECK_VALUES(model.parameters()[0], {1.5, -2.0});
}

TEST_CASE("a bad file throws tg::Error naming the file and the problem, the model untouched") {
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors";
  const fs::path bad = dir.path / "bad.safetensors";
  tg::manual_seed(5);
  tg::nn::Sequential saved = small_model();
  tg::nn::save(saved, good.string());
  const std::string file = read_bytes(good);
  const Parsed parsed = parse(file);

  tg::manual_seed(6);
  tg::nn::Sequential model = small_model();
  auto expect_failure = [&](tg::nn::Module& target, const std::string& bytes,
                            std::initializer_list<const char*> fragments) {
    write_bytes(bad, bytes);
    const std::string before = parameter_bytes(target);
    const std::string message =
        tg::testing::error_message([&] { tg::nn::load(target, bad.string()); });
    CAPTURE(message);
    CHECK(message.find("tg::nn::load") != std::string::npos);
    CHECK(message.find(bad.string()) != std::string::npos);
    for (const char* fragment : fragments) CHECK(message.find(fragment) != std::string::npos);
    CHECK(parameter_bytes(target) == before);
  };

  SUBCASE("truncated by one byte") {
    expect_failure(model, file.substr(0, file.size() - 1), {"cover", "data section"});
  }
  SUBCASE("truncated inside the header") {
    expect_failure(model, file.substr(0, 20), {"header length", "past the end"});
  }
  SUBCASE("shorter than the length field") {
    expect_failure(model, file.substr(0, 5), {"5 bytes", "too short"});
  }
  SUBCASE("a flipped data byte") {
    std::string corrupt = file;
    corrupt[file.size() - 3] ^= 0x01;
    expect_failure(model, corrupt, {"CRC-32", "corrupt"});
  }
  SUBCASE("a header length past the end") {
    std::string corrupt = file;
    corrupt.replace(0, 8, little_endian_u64(file.size()));
    expect_failure(model, corrupt, {"header length", "past the end"});
    corrupt.replace(0, 8, little_endian_u64(~uint64_t{0}));
    expect_failure(model, corrupt, {"header length", "past the end"});
  }
  SUBCASE("a header that is not JSON") {
    std::string corrupt = file;
    corrupt[8] = 'x';
    expect_failure(model, corrupt, {"not valid JSON"});
  }
  SUBCASE("a newer format version") {
    std::string corrupt = file;
    const size_t at = corrupt.find(R"("version":"1")");
    REQUIRE(at != std::string::npos);
    corrupt[at + 11] = '2';
    expect_failure(model, corrupt, {"format version 2", "newer"});
  }
  SUBCASE("a wrong shape") {
    tg::nn::Sequential wider(tg::nn::Linear(3, 5), tg::nn::ReLU(), tg::nn::Linear(5, 2));
    expect_failure(wider, file, {"\"0.weight\" is F32 [4, 3] in the file but F32 [5, 3]"});
  }
  SUBCASE("a wrong dtype") {
    tg::nn::Sequential doubles = small_model();
    doubles.to(tg::f64);
    expect_failure(doubles, file, {"F32 [4, 3] in the file but F64 [4, 3]"});
  }
  SUBCASE("a name the file lacks") {
    tg::nn::Sequential deeper(tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2),
                              tg::nn::Linear(2, 2));
    expect_failure(deeper, file, {"missing from the file: 3.weight, 3.bias"});
  }
  SUBCASE("a name the module lacks") {
    tg::nn::Sequential no_bias(tg::nn::Linear(3, 4), tg::nn::ReLU(), tg::nn::Linear(4, 2, false));
    expect_failure(no_bias, file, {"not parameters or buffers of the module: 2.bias"});
  }
  SUBCASE("entries whose offsets do not match their size or tile the data") {
    const std::string data(8, '\0');
    expect_failure(model,
                   safetensors(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
                   {"\"w\"", "needs 12 bytes"});
    expect_failure(model,
                   safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                               data),
                   {"starts at data offset 0, expected 4"});
    expect_failure(model,
                   safetensors(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", data),
                   {"\"w\"", "non-negative"});
    expect_failure(model,
                   safetensors(R"({"w":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", data),
                   {"BF16"});
    expect_failure(model, safetensors(R"([1, 2])", data), {"not a JSON object"});
  }
  SUBCASE("a missing file or a directory") {
    CHECK_THROWS_AS(tg::nn::load(model, (dir.path / "absent").string()), tg::Error);
    const std::string message =
        tg::testing::error_message([&] { tg::nn::load(model, dir.path.string()); });
    CHECK(message.find("not a regular file") != std::string::npos);
  }
  CHECK(parsed.header.contains("0.weight"));
}

TEST_CASE("a save that cannot write throws tg::Error, keeps the old file and leaves no temp file") {
  TempDir dir;
  const fs::path path = dir.path / "model.safetensors";
  tg::nn::Sequential old_model = small_model(), new_model = small_model();
  tg::nn::save(old_model, path.string());
  const std::string old_file = read_bytes(path);

  SUBCASE("a directory that does not exist") {
    const fs::path missing = dir.path / "missing" / "model.safetensors";
    const std::string message =
        tg::testing::error_message([&] { tg::nn::save(new_model, missing.string()); });
    CHECK(message.find("tg::nn::save") != std::string::npos);
    CHECK(message.find(missing.string()) != std::string::npos);
  }
  SUBCASE("a read-only directory") {
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    if (::access(dir.path.c_str(), W_OK) == 0) {
      MESSAGE("running with permission to write anyway (root): read-only case not testable");
    } else {
      CHECK_THROWS_AS(tg::nn::save(new_model, path.string()), tg::Error);
    }
    fs::permissions(dir.path, fs::perms::owner_all);
  }
  SUBCASE("a temporary name that cannot be created (taken by a directory)") {
    fs::create_directory(dir.path / ("model.safetensors.tmp-" + std::to_string(::getpid())));
    CHECK_THROWS_AS(tg::nn::save(new_model, path.string()), tg::Error);
    fs::remove(dir.path / ("model.safetensors.tmp-" + std::to_string(::getpid())));
  }
  SUBCASE("a target path that is a directory") {
    const fs::path target = dir.path / "a_directory";
    fs::create_directory(target);
    CHECK_THROWS_AS(tg::nn::save(new_model, target.string()), tg::Error);
    CHECK(fs::is_directory(target));
    fs::remove(target);
  }
  CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
  CHECK(read_bytes(path) == old_file);
}
