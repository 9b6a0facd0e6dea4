// Free lists of small blocks, one set per thread. A scalar op used to make about twenty
// malloc/free calls, a third of its cost: glibc's per-thread cache keeps only 7 blocks per size,
// and tearing down a graph frees more than that of each size at once, so most frees took the
// slow path. Blocks up to 64 KiB (the buffers of a small model's activations and gradients) went
// the same way, and glibc's consolidation of them cost a fifth of a 2-16-1 MLP's step. Here each
// size class keeps as many blocks as the thread ever had in use at once (a fixed cap of 4,096
// blocks per class let a graph of 50,000 records send most of its teardown back to glibc), up to
// kThreadLimit bytes per thread; the push and pop are inline in small_blocks.hpp. Sanitizer
// builds go straight to operator new/delete, so that a use after free stays detectable.
#include "small_blocks.hpp"

#include <new>

namespace tg::detail {
namespace small_blocks {

// The most one thread keeps for reuse: far above any graph the benches and tests build (a
// 50,000-op scalar graph needs ~25 MB), low enough that a thread cannot hoard the machine.
constexpr size_t kThreadLimit = size_t{256} << 20;

static_assert(size_class(16) == 0 && size_class(512) == kFineClasses - 1);
static_assert(size_class(513) == kFineClasses && class_bytes(size_class(1025)) == 2048);
static_assert(size_class(kLargestSmallBlock) == kClasses - 1);

thread_local constinit FreeLists lists;

namespace {

void free_listed() noexcept {
  for (FreeBlock*& head : lists.head)
    while (FreeBlock* block = head) {
      head = block->next;
      ::operator delete(block);
    }
}

// Frees the thread's blocks when it exits, and closes its lists.
struct ThreadExit {
  ~ThreadExit() {
    lists.closed = true;
    lists.room.fill(0);
    free_listed();
  }
};

}  // namespace

// A thread_local with a destructor costs a guard check on every use, so only this slow path,
// taken once per block the thread ever adds to its lists, touches it.
void* refill(size_t c) {
  void* block = ::operator new(class_bytes(c));
  if (lists.closed || lists.capacity_bytes + class_bytes(c) > kThreadLimit) return block;
  if (!lists.exit_registered) {
    static thread_local ThreadExit thread_exit;
    lists.exit_registered = true;
  }
  ++lists.capacity[c];
  ++lists.room[c];
  lists.capacity_bytes += class_bytes(c);
  return block;
}

void overflow(void* block, size_t /*c*/) noexcept { ::operator delete(block); }

}  // namespace small_blocks

void release_small_blocks() noexcept {
  using namespace small_blocks;
  free_listed();
  lists.room.fill(0);
  lists.capacity.fill(0);
  lists.capacity_bytes = 0;
}

size_t small_block_bytes_kept() noexcept {
  using namespace small_blocks;
  size_t bytes = 0;
  for (size_t c = 0; c < kClasses; ++c)
    bytes += static_cast<size_t>(lists.capacity[c] - lists.room[c]) * class_bytes(c);
  return bytes;
}

}  // namespace tg::detail
