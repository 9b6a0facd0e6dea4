// Free lists of small blocks, one set per thread. A scalar op used to make about twenty
// malloc/free calls, a third of its cost: glibc's per-thread cache keeps only 7 blocks per size,
// and tearing down a graph frees more than that of each size at once, so most frees took the
// slow path. Blocks up to 64 KiB (the buffers of a small model's activations and gradients) went
// the same way, and glibc's consolidation of them cost a fifth of a 2-16-1 MLP's step. Here each
// size class keeps up to a few thousand blocks (at most 1 MiB of them), popped and pushed in a
// few instructions. Sanitizer builds go straight to operator new/delete, so that a use after free
// stays detectable.
#include "small_blocks.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <new>

namespace tg::detail {
namespace {

// Classes of 16, 32, ..., 512 bytes (16 is what operator new aligns to), then 1, 2, ..., 64 KiB.
constexpr size_t kGranule = alignof(std::max_align_t);
constexpr size_t kFineClasses = 512 / kGranule;
constexpr size_t kClasses = kFineClasses + 7;
static_assert(kLargestSmallBlock == size_t{1024} << (kClasses - kFineClasses - 1));

constexpr size_t size_class(size_t bytes) {
  if (bytes <= 512) return (bytes + kGranule - 1) / kGranule - 1;
  return kFineClasses + static_cast<size_t>(std::bit_width(bytes - 1)) - 10;
}
constexpr size_t class_bytes(size_t c) {
  return c < kFineClasses ? (c + 1) * kGranule : size_t{1024} << (c - kFineClasses);
}
// Per thread and class: 4096 blocks of up to 256 bytes, at most 1 MiB of larger ones.
constexpr uint32_t blocks_kept(size_t c) {
  return static_cast<uint32_t>(std::min<size_t>(4096, (size_t{1} << 20) / class_bytes(c)));
}
static_assert(size_class(16) == 0 && size_class(512) == kFineClasses - 1);
static_assert(size_class(513) == kFineClasses && class_bytes(size_class(1025)) == 2048);
static_assert(size_class(kLargestSmallBlock) == kClasses - 1);

constexpr bool kKeepBlocks = !kSanitized;

struct FreeBlock {
  FreeBlock* next;
};

// Trivially destructible, so that it stays usable while the thread's other thread_local and
// static objects (which may hold tensors) are destroyed. `room` counts the blocks each list may
// still take; it starts at zero, so a thread's first free takes the slow path that registers the
// cleanup, and the cleanup sets it back to zero, so that later frees go to operator delete.
struct FreeLists {
  std::array<FreeBlock*, kClasses> head{};
  std::array<uint32_t, kClasses> room{};
  bool exit_registered = false;
};
thread_local constinit FreeLists lists;

// Frees the thread's blocks when it exits.
struct ThreadExit {
  ~ThreadExit() {
    lists.room.fill(0);
    for (FreeBlock*& head : lists.head)
      while (FreeBlock* block = head) {
        head = block->next;
        ::operator delete(block);
      }
  }
};

// Registers the cleanup and opens the lists, on the thread's first free. A thread_local with a
// destructor costs a guard check on every use, so the hot path never touches it.
[[gnu::noinline]] bool open_lists() {
  if (lists.exit_registered) return false;  // registered and since closed: the thread is exiting
  static thread_local ThreadExit thread_exit;
  lists.exit_registered = true;
  for (size_t c = 0; c < kClasses; ++c) lists.room[c] = blocks_kept(c);
  return true;
}

}  // namespace

void* allocate_small_block(size_t bytes) {
  if (kKeepBlocks && bytes != 0 && bytes <= kLargestSmallBlock) {
    const size_t c = size_class(bytes);
    if (FreeBlock* block = lists.head[c]) {
      lists.head[c] = block->next;
      ++lists.room[c];
      return block;
    }
    return ::operator new(class_bytes(c));
  }
  return ::operator new(bytes);
}

void free_small_block(void* block, size_t bytes) noexcept {
  if (kKeepBlocks && bytes != 0 && bytes <= kLargestSmallBlock) {
    const size_t c = size_class(bytes);
    if (lists.room[c] != 0 || open_lists()) {
      lists.head[c] = new (block) FreeBlock{lists.head[c]};
      --lists.room[c];
      return;
    }
  }
  ::operator delete(block);
}

}  // namespace tg::detail
