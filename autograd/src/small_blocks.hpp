// Per-thread free lists for the small blocks every recorded op allocates: tensor handles
// (TensorImpl), scalar and other small buffers, records (Node) and their edges.
#pragma once

#include <cstddef>

namespace tg::detail {

/// True in ASan and TSan builds, where no memory is kept for reuse (the free lists here, the
/// large-buffer cache of storage.cpp), so that a use after free stays detectable.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

/// The largest block the free lists keep; larger requests go to operator new.
inline constexpr size_t kLargestSmallBlock = size_t{64} << 10;

/// A block of at least `bytes` bytes, aligned like max_align_t: this thread's last freed block
/// of its size class if there is one, else a new one.
void* allocate_small_block(size_t bytes);

/// Returns a block from allocate_small_block(bytes) to this thread's free list (which may be
/// another thread's than the one that allocated it), or to operator delete once the list holds
/// enough.
void free_small_block(void* block, size_t bytes) noexcept;

/// The allocator that std::allocate_shared and containers use to draw from the free lists.
template <class T>
struct SmallBlockAllocator {
  using value_type = T;
  SmallBlockAllocator() = default;
  template <class U>
  SmallBlockAllocator(const SmallBlockAllocator<U>& /*other*/) {}  // NOLINT: rebinding is implicit
  T* allocate(size_t n) { return static_cast<T*>(allocate_small_block(n * sizeof(T))); }
  void deallocate(T* block, size_t n) noexcept { free_small_block(block, n * sizeof(T)); }
  template <class U>
  bool operator==(const SmallBlockAllocator<U>& /*other*/) const {
    return true;
  }
};

}  // namespace tg::detail
