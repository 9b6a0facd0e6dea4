// Storage for tensor data, with large buffers recycled between training steps.
#pragma once

#include <cstddef>
#include <memory>

namespace tg::detail {

/// An uninitialised buffer of at least `bytes` bytes: 64-byte aligned from 64 KiB up, else
/// malloc's 16-byte alignment.
std::shared_ptr<void> allocate_storage(size_t bytes);

/// Bytes currently held for reuse (for tests and diagnostics).
size_t cached_storage_bytes();

}  // namespace tg::detail
