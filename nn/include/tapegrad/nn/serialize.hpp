// tg::nn::save and tg::nn::load: a module's parameters and buffers as safetensors, checksummed.
#pragma once

#include <string>

#include "tapegrad/nn/module.hpp"

namespace tg::nn {

/// Writes every named parameter, then every named buffer, to `path` with tg::save (see there
/// for the file: safetensors with tapegrad's "__metadata__" and a CRC-32 of the data). Atomic:
/// `path` holds either the old or the new file. Throws tg::Error naming the file on any
/// failure, removing the temporary file.
///
///     tg::nn::save(model, "model.safetensors");
void save(const Module& module, const std::string& path);

/// Reads `path` with tg::load and copies it into `module`'s existing parameters and buffers
/// (handles stay valid). All or nothing: the whole file is validated first (header, offsets,
/// CRC-32, format version, and exactly the module's parameter and buffer names with their
/// dtypes and shapes) and on any problem tg::Error naming the file and the problem is thrown
/// with the module untouched. Plain safetensors files without tapegrad's metadata load too;
/// their data is then not checksummed.
void load(Module& module, const std::string& path);

}  // namespace tg::nn
