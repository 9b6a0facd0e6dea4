// Free lists of small blocks, one set per thread. A scalar op used to make about twenty
// malloc/free calls, a third of its cost: glibc's per-thread cache keeps only 7 blocks per size,
// and tearing down a graph frees more than that of each size at once, so most frees took the
// slow path. Here each size class keeps up to kBlocksPerClass blocks, popped and pushed in a few
// instructions. Sanitizer builds go straight to operator new/delete, so that a use after free
// stays detectable.
#include "small_blocks.hpp"

#include <array>
#include <cstdint>
#include <new>

namespace tg::detail {
namespace {

constexpr size_t kGranule = alignof(std::max_align_t);  // 16: what operator new guarantees
constexpr size_t kClasses = kLargestSmallBlock / kGranule;
constexpr uint32_t kBlocksPerClass = 4096;  // per thread: at most 64 KiB to 2 MiB per class

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kKeepBlocks = false;
#else
constexpr bool kKeepBlocks = true;
#endif

struct FreeBlock {
  FreeBlock* next;
};

// Trivially destructible, so that it stays usable while the thread's other thread_local and
// static objects (which may hold tensors) are destroyed; `closed` then sends blocks back to
// operator delete.
struct FreeLists {
  std::array<FreeBlock*, kClasses> head{};
  std::array<uint32_t, kClasses> count{};
  bool exit_registered = false;
  bool closed = false;
};
thread_local constinit FreeLists lists;

// Frees the thread's blocks when it exits.
struct ThreadExit {
  ~ThreadExit() {
    lists.closed = true;
    for (size_t c = 0; c < kClasses; ++c)
      while (FreeBlock* block = lists.head[c]) {
        lists.head[c] = block->next;
        ::operator delete(block);
      }
  }
};

// The first block a thread keeps registers the cleanup: touching a thread_local with a destructor
// costs a guard check on every use, so the hot path checks the plain flag instead.
[[gnu::noinline]] void register_thread_exit() {
  static thread_local ThreadExit thread_exit;
  lists.exit_registered = true;
}

size_t size_class(size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }

}  // namespace

void* allocate_small_block(size_t bytes) {
  if (kKeepBlocks && bytes != 0 && bytes <= kLargestSmallBlock) {
    const size_t c = size_class(bytes);
    if (FreeBlock* block = lists.head[c]) {
      lists.head[c] = block->next;
      --lists.count[c];
      return block;
    }
    return ::operator new((c + 1) * kGranule);
  }
  return ::operator new(bytes);
}

void free_small_block(void* block, size_t bytes) noexcept {
  if (kKeepBlocks && bytes != 0 && bytes <= kLargestSmallBlock && !lists.closed) {
    const size_t c = size_class(bytes);
    if (lists.count[c] < kBlocksPerClass) {
      if (!lists.exit_registered) register_thread_exit();
      lists.head[c] = new (block) FreeBlock{lists.head[c]};
      ++lists.count[c];
      return;
    }
  }
  ::operator delete(block);
}

}  // namespace tg::detail
