// tg::save and tg::load: named tensors and string metadata in one safetensors file, checksummed.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tapegrad/autograd/state_dict.hpp"

namespace tg {

/// String metadata saved with a state dict in the safetensors header's "__metadata__".
using Metadata = std::map<std::string, std::string>;

/// Writes every tensor of `state` to `path` as safetensors: an 8-byte little-endian header
/// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
/// raw little-endian data. "__metadata__" holds `metadata` and tapegrad's reserved keys
/// "format" ("tapegrad"), "version" ("1") and "crc32" (the data section's zlib CRC-32 in
/// hex); a `metadata` key equal to a reserved one throws tg::Error. Atomic: the file is written
/// beside `path` under a temporary name, flushed to disk and renamed over `path`, so `path`
/// holds either the old or the new file. Throws tg::Error naming the file on any failure,
/// removing the temporary file.
///
///     tg::save(model.state_dict(), "model.safetensors", {{"epoch", "3"}});
void save(const StateDict& state, const std::string& path, const Metadata& metadata = {});

/// Reads a file written by tg::save (or any safetensors file of F32, F64 and I64 tensors) into
/// new tensors. The whole file is validated before anything is returned (header, offsets,
/// dtypes, shapes, format version, CRC-32 when present); on any problem tg::Error naming the
/// file, the entry and the problem is thrown. With `metadata`, it receives "__metadata__"
/// without the reserved keys (format, version, crc32).
///
///     tg::Metadata metadata;
///     tg::StateDict state = tg::load("model.safetensors", &metadata);
StateDict load(const std::string& path, Metadata* metadata = nullptr);

/// The reserved "__metadata__" keys that tg::save writes itself.
bool is_reserved_metadata_key(std::string_view key);

/// The elements of a contiguous tensor as bytes in memory order (what tg::save writes for it);
/// a tg::Error for a non-contiguous view, as data<T>() (call contiguous() first).
std::span<const std::byte> raw_bytes(const Tensor& tensor);
/// The same bytes, writable: for filling a tensor from a file or a message.
std::span<std::byte> raw_bytes(Tensor& tensor);

/// Named tensors in the order save_named writes them.
using NamedTensorList = std::vector<std::pair<std::string, Tensor>>;

/// tg::save for a library that builds its own file on it: the entries in the given order (which
/// the file keeps), and `op` (say "mylib::save") opening every error message instead of
/// "tg::save".
void save_named(const NamedTensorList& tensors, const std::string& path, const Metadata& metadata,
                std::string_view op);

/// tg::load with `op` opening every error message instead of "tg::load".
StateDict load_named(const std::string& path, Metadata* metadata, std::string_view op);

/// The dtype as a safetensors header spells it: "F32", "F64" or "I64".
const char* safetensors_dtype(DType dtype);

}  // namespace tg
