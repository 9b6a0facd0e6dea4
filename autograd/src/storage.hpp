// Storage for tensor data, with large buffers recycled between training steps.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tg::detail {

/// The counter of in-place writes to one buffer, shared by every view of it. It sits in front of
/// the data, in the buffer's own allocation, so it costs no allocation of its own.
using VersionCounter = std::atomic<uint64_t>;

/// A buffer and where its data starts.
struct Storage {
  std::shared_ptr<void> owner;  // the allocation: a VersionCounter (at 0) and then the data
  void* data = nullptr;
};

/// An uninitialised buffer of at least `bytes` bytes (64-byte aligned from 64 KiB up, else
/// malloc's 16-byte alignment) with its version counter set to 0.
Storage allocate_storage(size_t bytes);

/// The version counter of a buffer made by allocate_storage.
inline VersionCounter& version_counter(const std::shared_ptr<void>& owner) {
  return *static_cast<VersionCounter*>(owner.get());
}

/// Bytes currently held for reuse (for tests and diagnostics).
size_t cached_storage_bytes();

}  // namespace tg::detail
