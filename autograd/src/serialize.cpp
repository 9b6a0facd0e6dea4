// tg::save and tg::load: safetensors with a CRC-32 and string metadata, written atomically,
// validated entirely before anything is returned.
#include "tapegrad/autograd/serialize.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "tapegrad/autograd/error.hpp"

namespace tg {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian and is copied as is");

constexpr int kFormatVersion = 1;
constexpr size_t kLengthBytes = 8;

uint32_t crc32_of(uLong crc, const void* data, size_t size) {
  // zlib treats a null buffer as "give the initial value", so empty tensors must be skipped.
  if (size == 0) return static_cast<uint32_t>(crc);
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), size));
}

std::string errno_text() { return std::strerror(errno); }

// The temporary file of one save: removed on destruction unless it was renamed into place.
class TemporaryFile {
 public:
  TemporaryFile(std::string_view caller, const std::string& target, std::string path)
      : caller_(caller), target_(target), path_(std::move(path)) {
    // No O_EXCL: a file left by a killed save whose pid has come round again is overwritten.
    descriptor_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (descriptor_ < 0) fail(fmt::format("cannot create {}: {}", path_, errno_text()));
    opened_ = true;
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (descriptor_ >= 0) ::close(descriptor_);
    if (opened_ && !committed_) ::unlink(path_.c_str());
  }

  void write(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t written = ::write(descriptor_, bytes, std::min<size_t>(size, size_t{1} << 30));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0)
        fail(fmt::format("cannot write {}: {}", path_, written < 0 ? errno_text() : "no progress"));
      bytes += written;
      size -= static_cast<size_t>(written);
    }
  }

  // Data on disk before the rename, so a crash after it cannot leave a renamed empty file.
  void commit() {
    if (::fsync(descriptor_) != 0) fail(fmt::format("cannot flush {}: {}", path_, errno_text()));
    const int descriptor = descriptor_;
    descriptor_ = -1;
    if (::close(descriptor) != 0) fail(fmt::format("cannot close {}: {}", path_, errno_text()));
    if (::rename(path_.c_str(), target_.c_str()) != 0)
      fail(fmt::format("cannot rename {} to it: {}", path_, errno_text()));
    committed_ = true;
    // Best effort: persist the directory entry too; the file itself is already complete.
    const size_t slash = target_.find_last_of('/');
    const std::string directory = slash == std::string::npos ? "." : target_.substr(0, slash + 1);
    const int directory_descriptor = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_descriptor >= 0) {
      ::fsync(directory_descriptor);
      ::close(directory_descriptor);
    }
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(fmt::format("{}: {}: {}", caller_, target_, problem));
  }

  std::string_view caller_;
  std::string target_;
  std::string path_;
  int descriptor_ = -1;
  bool opened_ = false;
  bool committed_ = false;
};

std::string read_whole_file(std::string_view caller, const std::string& path) {
  auto fail = [&](const std::string& problem) {
    return Error(fmt::format("{}: {}: {}", caller, path, problem));
  };
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) throw fail(fmt::format("cannot open: {}", errno_text()));
  struct Closer {
    int descriptor;
    ~Closer() { ::close(descriptor); }
  } closer{descriptor};
  struct stat status {};
  if (::fstat(descriptor, &status) != 0) throw fail(fmt::format("cannot stat: {}", errno_text()));
  if (!S_ISREG(status.st_mode)) throw fail("not a regular file");
  std::string bytes(static_cast<size_t>(status.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(descriptor, bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw fail(fmt::format("cannot read: {}", errno_text()));
    if (got == 0) throw fail(fmt::format("file shrank to {} bytes while being read", done));
    done += static_cast<size_t>(got);
  }
  return bytes;
}

// One tensor of the file, validated against the file alone.
struct Entry {
  std::string name;
  std::string dtype_name;
  DType dtype;
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

uint64_t read_length(std::string_view bytes) {
  uint64_t length = 0;
  for (size_t i = 0; i < kLengthBytes; ++i)
    length |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return length;
}

class Loader {
 public:
  Loader(std::string_view caller, const std::string& path) : caller_(caller), path_(path) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(fmt::format("{}: {}: {}", caller_, path_, problem));
  }

  Entry parse_entry(const std::string& name, const nlohmann::json& value) const {
    if (!value.is_object()) fail(fmt::format("entry \"{}\" is not a JSON object", name));
    Entry entry{name, "", DType::f32, {}, 0, 0};
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string())
      fail(fmt::format("entry \"{}\" has no dtype string", name));
    entry.dtype_name = dtype->get<std::string>();
    if (entry.dtype_name == "F32") {
      entry.dtype = DType::f32;
    } else if (entry.dtype_name == "F64") {
      entry.dtype = DType::f64;
    } else if (entry.dtype_name == "I64") {
      entry.dtype = DType::i64;
    } else {
      fail(fmt::format("entry \"{}\" has dtype \"{}\"; tapegrad reads F32, F64 and I64", name,
                       entry.dtype_name));
    }
    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array())
      fail(fmt::format("entry \"{}\" has no shape array", name));
    uint64_t bytes = static_cast<uint64_t>(element_size(entry.dtype));
    // Sizes are named by position, not dumped: the JSON could be nested arbitrarily deep.
    for (const auto& size : *shape) {
      if (!size.is_number_unsigned())
        fail(fmt::format("entry \"{}\": shape size {} is not a non-negative integer", name,
                         entry.shape.size()));
      const uint64_t n = size.get<uint64_t>();
      if (n > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(bytes, n, &bytes))
        fail(
            fmt::format("entry \"{}\": shape {}... is too large", name, format_shape(entry.shape)));
      entry.shape.push_back(static_cast<int64_t>(n));
    }
    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
      fail(fmt::format("entry \"{}\" needs data_offsets [begin, end] of non-negative integers",
                       name));
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    if (entry.end < entry.begin || entry.end - entry.begin != bytes)
      fail(fmt::format("entry \"{}\" ({} {}) needs {} bytes but data_offsets [{}, {}] hold {}",
                       name, entry.dtype_name, format_shape(entry.shape), bytes, entry.begin,
                       entry.end, static_cast<int64_t>(entry.end - entry.begin)));
    return entry;
  }

  // The version first, before anything else is read: a newer writer may lay the rest out
  // differently.
  void check_version(const nlohmann::json& metadata) const {
    if (!metadata.is_object()) fail("__metadata__ is not a JSON object");
    for (const auto& [key, value] : metadata.items())
      if (!value.is_string()) fail(fmt::format("__metadata__ value \"{}\" is not a string", key));
    const auto version = metadata.find("version");
    if (version == metadata.end()) return;
    const std::string text = version->get<std::string>();
    if (text.empty() || text.size() > 9 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      fail(fmt::format("format version \"{}\" is not a number", text));
    if (std::stoi(text) > kFormatVersion)
      fail(fmt::format("format version {} is newer than this tapegrad reads ({})", text,
                       kFormatVersion));
  }

  // After the layout check, so that a truncated file is reported as truncated.
  void check_crc(const nlohmann::json& metadata, std::string_view data) const {
    const auto crc = metadata.find("crc32");
    if (crc == metadata.end()) return;
    const std::string expected = crc->get<std::string>();
    const std::string actual = fmt::format("{:08x}", crc32_of(0, data.data(), data.size()));
    if (expected != actual)
      fail(
          fmt::format("CRC-32 of the data section is {} but the header says {}: the file is "
                      "corrupt",
                      actual, expected));
  }

  // Every entry, sorted by offset, must tile the data section exactly: no gap, no overlap.
  void check_layout(std::vector<Entry> entries, uint64_t data_size) const {
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
    uint64_t position = 0;
    for (const Entry& entry : entries) {
      if (entry.begin != position)
        fail(
            fmt::format("entry \"{}\" starts at data offset {}, expected {} (tensors must be "
                        "contiguous and not overlap)",
                        entry.name, entry.begin, position));
      position = entry.end;
    }
    if (position != data_size)
      fail(
          fmt::format("tensors cover {} bytes but the data section holds {}", position, data_size));
  }

 private:
  std::string_view caller_;
  std::string path_;
};

constexpr const char* kReservedKeys[] = {"format", "version", "crc32"};

}  // namespace

bool is_reserved_metadata_key(std::string_view key) {
  return std::find(std::begin(kReservedKeys), std::end(kReservedKeys), key) !=
         std::end(kReservedKeys);
}

void save_named(const NamedTensorList& given, const std::string& path, const Metadata& metadata,
                std::string_view caller) {
  // A view is saved as its own elements, row-major: its contiguous copy.
  NamedTensorList tensors = given;
  for (auto& [name, tensor] : tensors)
    if (tensor.defined() && !tensor.is_contiguous()) tensor = tensor.detach().contiguous();
  for (const auto& [key, value] : metadata)
    if (is_reserved_metadata_key(key))
      throw Error(fmt::format(
          "{}: {}: metadata key \"{}\" is reserved (tapegrad writes format, version and crc32 "
          "itself); choose another name",
          caller, path, key));
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__")
      throw Error(fmt::format("{}: {}: a tensor cannot be named \"__metadata__\"", caller, path));
    if (!tensor.defined())
      throw Error(fmt::format("{}: {}: entry \"{}\" is an undefined tensor", caller, path, name));
  }
  uint32_t crc = crc32_of(0, nullptr, 0);
  for (const auto& [name, tensor] : tensors) {
    const std::span<const std::byte> bytes = raw_bytes(tensor);
    crc = crc32_of(crc, bytes.data(), bytes.size());
  }

  // ordered_json keeps the entries in the caller's order, the order of the data too.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  nlohmann::ordered_json header_metadata = {{"format", "tapegrad"},
                                            {"version", std::to_string(kFormatVersion)},
                                            {"crc32", fmt::format("{:08x}", crc)}};
  for (const auto& [key, value] : metadata) header_metadata[key] = value;
  header["__metadata__"] = std::move(header_metadata);
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const uint64_t end = offset + raw_bytes(tensor).size();
    header[name] = {{"dtype", safetensors_dtype(tensor.dtype())},
                    {"shape", tensor.shape()},
                    {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& error) {
    // Names and metadata must be valid UTF-8 for the JSON header.
    throw Error(fmt::format("{}: {}: cannot write the header ({})", caller, path, error.what()));
  }
  // Spaces up to a multiple of 8 align the data section, as the safetensors writer does.
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');
  char length[kLengthBytes];
  for (size_t i = 0; i < kLengthBytes; ++i)
    length[i] = static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xff);

  // Beside the target so the rename stays on one file system; the pid keeps two processes
  // saving to the same path from sharing a temporary file.
  TemporaryFile file(caller, path, fmt::format("{}.tmp-{}", path, ::getpid()));
  file.write(length, kLengthBytes);
  file.write(text.data(), text.size());
  for (const auto& [name, tensor] : tensors) {
    const std::span<const std::byte> bytes = raw_bytes(tensor);
    file.write(bytes.data(), bytes.size());
  }
  file.commit();
}

StateDict load_named(const std::string& path, Metadata* metadata_out, std::string_view caller) {
  const Loader loader(caller, path);
  const std::string bytes = read_whole_file(caller, path);
  if (bytes.size() < kLengthBytes)
    loader.fail(
        fmt::format("the file is {} bytes, too short for the 8-byte header length", bytes.size()));
  const uint64_t header_length = read_length(bytes);
  if (header_length > bytes.size() - kLengthBytes)
    loader.fail(fmt::format("header length {} runs past the end of the file ({} bytes)",
                            header_length, bytes.size()));
  const std::string_view header_text(bytes.data() + kLengthBytes,
                                     static_cast<size_t>(header_length));
  const std::string_view data(bytes.data() + kLengthBytes + header_length,
                              bytes.size() - kLengthBytes - static_cast<size_t>(header_length));

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(header_text);
  } catch (const nlohmann::json::exception& error) {
    loader.fail(fmt::format("the header is not valid JSON ({})", error.what()));
  }
  if (!header.is_object()) loader.fail("the header is not a JSON object");

  const auto metadata = header.find("__metadata__");
  if (metadata != header.end()) loader.check_version(*metadata);
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    entries.push_back(loader.parse_entry(name, value));
  }
  loader.check_layout(entries, data.size());
  if (metadata != header.end()) loader.check_crc(*metadata, data);

  // Everything is known good: only now are tensors made and the metadata handed out.
  StateDict state;
  for (const Entry& entry : entries) {
    Tensor tensor = zeros(entry.shape, {.dtype = entry.dtype});
    if (entry.end > entry.begin)
      std::memcpy(raw_bytes(tensor).data(), data.data() + entry.begin,
                  static_cast<size_t>(entry.end - entry.begin));
    state.emplace(entry.name, std::move(tensor));
  }
  if (metadata_out != nullptr) {
    Metadata user;
    if (metadata != header.end())
      for (const auto& [key, value] : metadata->items())
        if (!is_reserved_metadata_key(key)) user.emplace(key, value.get<std::string>());
    *metadata_out = std::move(user);
  }
  return state;
}

void save(const StateDict& state, const std::string& path, const Metadata& metadata) {
  save_named(NamedTensorList(state.begin(), state.end()), path, metadata, "tg::save");
}

StateDict load(const std::string& path, Metadata* metadata) {
  return load_named(path, metadata, "tg::load");
}

std::span<const std::byte> raw_bytes(const Tensor& tensor) {
  const void* data = nullptr;
  switch (tensor.dtype()) {
    case DType::f32:
      data = tensor.data<float>();
      break;
    case DType::f64:
      data = tensor.data<double>();
      break;
    case DType::i64:
      data = tensor.data<int64_t>();
      break;
  }
  return {static_cast<const std::byte*>(data),
          static_cast<size_t>(tensor.numel()) * static_cast<size_t>(element_size(tensor.dtype()))};
}

// A tensor handle's elements are never const storage: only the handle is.
std::span<std::byte> raw_bytes(Tensor& tensor) {
  const std::span<const std::byte> bytes = raw_bytes(std::as_const(tensor));
  return {const_cast<std::byte*>(bytes.data()), bytes.size()};
}

const char* safetensors_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i64:
      return "I64";
  }
  return "?";
}

}  // namespace tg
