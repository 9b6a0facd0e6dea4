// tg::nn::save and tg::nn::load: a module's parameters in the safetensors format, checksummed.
#pragma once

#include <string>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// Writes every named parameter to `path` as safetensors (an 8-byte little-endian header
/// length, a JSON header {name: {dtype, shape, data_offsets}} with "__metadata__" {format:
/// "tapegrad", version: "1", crc32: the data section's zlib CRC-32 in hex}, then the raw
/// little-endian data). Atomic: the file is written beside `path` under a temporary name,
/// flushed to disk and renamed over `path`, so `path` holds either the old or the new file.
/// Throws tg::Error naming the file on any failure, removing the temporary file.
///
///     tg::nn::save(model, "model.safetensors");
void save(const Module& module, const std::string& path);

/// Reads `path` and copies it into `module`'s existing parameters (handles stay valid). All or
/// nothing: the whole file is validated first (header, offsets, dtypes, shapes, exactly the
/// module's parameter names, CRC-32, format version) and on any problem tg::Error naming the
/// file and the problem is thrown with the module untouched. Plain safetensors files without
/// tapegrad's metadata load too; their data is then not checksummed.
void load(Module& module, const std::string& path);

}  // namespace tg::nn
