// Per-thread free lists for the small blocks every recorded op allocates: tensor handles
// (TensorImpl), scalar and other small buffers, records (Node) and their edges.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <new>

namespace tg::detail {

/// True in ASan and TSan builds, where no memory is kept for reuse (the free lists here, the
/// large-buffer cache of storage.cpp), so that a use after free stays detectable. GCC spells
/// the test __SANITIZE_ADDRESS__, clang __has_feature.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TG_SMALL_BLOCKS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TG_SMALL_BLOCKS_SANITIZED 1
#endif
#endif
#ifdef TG_SMALL_BLOCKS_SANITIZED
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#undef TG_SMALL_BLOCKS_SANITIZED

/// The largest block the free lists keep; larger requests go to operator new.
inline constexpr size_t kLargestSmallBlock = size_t{64} << 10;

namespace small_blocks {

// Classes of 16, 32, ..., 512 bytes (16 is what operator new aligns to), then 1, 2, ..., 64 KiB.
inline constexpr size_t kGranule = alignof(std::max_align_t);
inline constexpr size_t kFineClasses = 512 / kGranule;
inline constexpr size_t kClasses = kFineClasses + 7;
static_assert(kLargestSmallBlock == size_t{1024} << (kClasses - kFineClasses - 1));

constexpr size_t size_class(size_t bytes) {
  if (bytes <= 512) return (bytes + kGranule - 1) / kGranule - 1;
  return kFineClasses + static_cast<size_t>(std::bit_width(bytes - 1)) - 10;
}
constexpr size_t class_bytes(size_t c) {
  return c < kFineClasses ? (c + 1) * kGranule : size_t{1024} << (c - kFineClasses);
}

struct FreeBlock {
  FreeBlock* next;
};

// One thread's lists. Trivially destructible, so that it stays usable while the thread's other
// thread_local and static objects (which may hold tensors) are destroyed. `room` counts the
// blocks each list may still take: it grows by one with every block this thread had to get from
// operator new (up to a bound), so each list ends up as long as the thread's high-water mark of
// blocks in use, and a graph rebuilt at the same size finds every block it needs.
struct FreeLists {
  std::array<FreeBlock*, kClasses> head{};
  std::array<uint32_t, kClasses> room{};
  std::array<uint32_t, kClasses> capacity{};  // blocks listed + room, per class
  size_t capacity_bytes = 0;                  // over all classes, bounded by kThreadLimit
  bool exit_registered = false;
  bool closed = false;  // the thread is exiting: blocks go straight back to operator delete
};
extern thread_local constinit FreeLists lists;

/// A block of class `c` when the list is empty (from operator new, growing the list's room).
void* refill(size_t c);
/// Frees `block` of class `c` when the list is full.
void overflow(void* block, size_t c) noexcept;

}  // namespace small_blocks

/// A block of at least `bytes` bytes, aligned like max_align_t: this thread's last freed block
/// of its size class if there is one, else a new one. Inline: with the size known at compile
/// time (every caller's) the fast path is a pop.
inline void* allocate_small_block(size_t bytes) {
  using namespace small_blocks;
  if (!kSanitized && bytes != 0 && bytes <= kLargestSmallBlock) {
    const size_t c = size_class(bytes);
    if (FreeBlock* block = lists.head[c]) [[likely]] {
      lists.head[c] = block->next;
      // In a graph larger than the caches the next block is cold, and reading its link would
      // stall the next allocation: ask for it now (a recurrent network records ~20% faster).
      __builtin_prefetch(block->next, 1);
      ++lists.room[c];
      return block;
    }
    return refill(c);
  }
  return ::operator new(bytes);
}

/// Returns a block from allocate_small_block(bytes) to this thread's free list (which may be
/// another thread's than the one that allocated it), or to operator delete once the list holds
/// as many as this thread ever had in use.
inline void free_small_block(void* block, size_t bytes) noexcept {
  using namespace small_blocks;
  if (!kSanitized && bytes != 0 && bytes <= kLargestSmallBlock) {
    const size_t c = size_class(bytes);
    if (lists.room[c] != 0) [[likely]] {
      lists.head[c] = new (block) FreeBlock{lists.head[c]};
      --lists.room[c];
      return;
    }
    overflow(block, c);
    return;
  }
  ::operator delete(block);
}

/// Gives this thread's listed blocks back to operator delete and resets its high-water marks.
void release_small_blocks() noexcept;

/// The bytes this thread's lists hold for reuse (for tests and diagnostics).
size_t small_block_bytes_kept() noexcept;

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
