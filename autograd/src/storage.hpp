// Storage for tensor data, with large buffers recycled between training steps.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "tapegrad/autograd/dtype.hpp"

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
/// malloc's 16-byte alignment) with its version counter set to 0. A buffer that cannot be had
/// (more than the machine's memory, or malloc failing) throws tg::Error naming the op of the
/// innermost AllocationSite, `shape`, `dtype` and the bytes, never a bare std::bad_alloc.
Storage allocate_storage(size_t bytes, const Shape& shape = {}, DType dtype = DType::f32);

/// While alive, names `op` as the one whose tensors this thread allocates, for the error of an
/// allocation that fails (zeros, ones, tensor, ... and the fused ops set one).
class AllocationSite {
 public:
  explicit AllocationSite(const char* op);
  ~AllocationSite();
  AllocationSite(const AllocationSite&) = delete;
  AllocationSite& operator=(const AllocationSite&) = delete;

 private:
  const char* previous_;
};

/// The version counter of a buffer made by allocate_storage.
inline VersionCounter& version_counter(const std::shared_ptr<void>& owner) {
  return *static_cast<VersionCounter*>(owner.get());
}

/// Bytes currently held for reuse (for tests and diagnostics).
size_t cached_storage_bytes();

}  // namespace tg::detail
