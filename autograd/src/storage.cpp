// Storage for tensor data. A training step frees and reallocates the same large buffers
// (activations, gradients) every iteration; handing them back to the OS and faulting fresh
// pages in again cost ~15% of an MLP step in profiles, so buffers of 64 KiB and more are kept
// in per-size free lists and reused. Sanitizer builds skip the cache so that use-after-free
// stays detectable.
//
// A small buffer shares one allocation with its shared_ptr's use count, from the per-thread free
// lists of small_blocks.hpp.
// aligned_alloc bypasses glibc's per-thread cache (~470 instructions a call) and the count
// took a second allocation, when allocation was already over half of a scalar op's cost. The
// 16-byte alignment of max_align_t is all the kernels need (unaligned vector loads cost
// nothing extra on x86-64).
#include "storage.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include "small_blocks.hpp"
#include "tapegrad/autograd/error.hpp"

namespace tg::detail {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kRecycleFrom = 64 * 1024;
constexpr size_t kCacheLimit = size_t{512} << 20;  // never hold more than this for reuse
constexpr size_t kBuffersPerSize = 8;

constexpr bool kRecycle = !kSanitized;

class BufferCache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* buffer = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= bytes;
        return buffer;
      }
    }
    void* buffer = std::aligned_alloc(kAlignment, bytes);
    if (buffer == nullptr) throw std::bad_alloc();
    return buffer;
  }

  void give_back(void* buffer, size_t bytes) {
    {
      std::lock_guard lock(mutex_);
      std::vector<void*>& list = free_[bytes];
      if (cached_bytes_ + bytes <= kCacheLimit && list.size() < kBuffersPerSize) {
        list.push_back(buffer);
        cached_bytes_ += bytes;
        return;
      }
    }
    std::free(buffer);
  }

  size_t cached_bytes() {
    std::lock_guard lock(mutex_);
    return cached_bytes_;
  }

  ~BufferCache() {
    for (auto& [bytes, list] : free_)
      for (void* buffer : list) std::free(buffer);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_bytes_ = 0;
};

BufferCache& cache() {
  static BufferCache* instance = new BufferCache();  // outlives every static tensor
  return *instance;
}

}  // namespace

namespace {
// The version counter takes the first max_align_t of a small buffer and the first 64 bytes of a
// large one, so the data keeps the buffer's alignment.
static_assert(sizeof(VersionCounter) <= sizeof(std::max_align_t));

Storage with_counter(std::shared_ptr<void> owner, size_t header) {
  new (owner.get()) VersionCounter(0);
  void* data = static_cast<std::byte*>(owner.get()) + header;
  return {std::move(owner), data};
}
}  // namespace

namespace {

thread_local const char* allocating_op = nullptr;

// The machine's memory: a request past it cannot succeed, and asking malloc anyway would abort
// a sanitizer build (whose allocators refuse such sizes) instead of throwing.
size_t physical_memory() {
  static const size_t bytes = [] {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page)
                                 : ~size_t{0};
  }();
  return bytes;
}

[[noreturn]] void allocation_failed(size_t bytes, const Shape& shape, DType dtype,
                                    const char* why) {
  throw Error(
      fmt::format("{}: cannot allocate {} bytes ({:.3g} GiB) for a {} tensor of shape {}: {}",
                  allocating_op != nullptr ? allocating_op : "tensor allocation", bytes,
                  static_cast<double>(bytes) / static_cast<double>(size_t{1} << 30),
                  dtype_name(dtype), format_shape(shape), why));
}

// A buffer of 64 KiB and more, from the large-buffer cache (its size checked against the
// machine's memory first). Out of line: the small buffers of scalar ops never come here.
[[gnu::noinline]] Storage allocate_large(size_t bytes, const Shape& shape, DType dtype) {
  if (bytes > physical_memory())
    allocation_failed(
        bytes, shape, dtype,
        fmt::format("more than the machine's {} bytes of memory", physical_memory()).c_str());
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment + kAlignment;
  try {
    if (!kRecycle) {
      void* buffer = std::aligned_alloc(kAlignment, rounded);
      if (buffer == nullptr) throw std::bad_alloc();
      return with_counter(std::shared_ptr<void>(buffer, [](void* p) { std::free(p); }), kAlignment);
    }
    // The count's block from the free lists too, so a step that remakes its large buffers calls
    // no malloc.
    return with_counter(
        std::shared_ptr<void>(
            cache().take(rounded), [rounded](void* p) { cache().give_back(p, rounded); },
            SmallBlockAllocator<std::byte>{}),
        kAlignment);
  } catch (const std::bad_alloc&) {
    allocation_failed(bytes, shape, dtype, "out of memory");
  }
}

[[gnu::noinline]] [[noreturn]] void small_allocation_failed(size_t bytes, const Shape& shape,
                                                            DType dtype) {
  allocation_failed(bytes, shape, dtype, "out of memory");
}

}  // namespace

AllocationSite::AllocationSite(const char* op) : previous_(allocating_op) { allocating_op = op; }
AllocationSite::~AllocationSite() { allocating_op = previous_; }

Storage allocate_storage(size_t bytes, const Shape& shape, DType dtype) {
  // Large when rounded up to 64 bytes plus a 64-byte header it reaches 64 KiB, i.e. above
  // 64 KiB - 128 bytes; compared on `bytes` alone so that a request near SIZE_MAX cannot wrap.
  if (bytes > kRecycleFrom - 2 * kAlignment) [[unlikely]]
    return allocate_large(bytes, shape, dtype);
  // One allocation holds the counter, the buffer and its use count.
  const size_t words = (bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  try {
    return with_counter(std::allocate_shared_for_overwrite<std::max_align_t[]>(
                            SmallBlockAllocator<std::max_align_t>{}, words + 1),
                        sizeof(std::max_align_t));
  } catch (const std::bad_alloc&) {
    small_allocation_failed(bytes, shape, dtype);
  }
}

size_t cached_storage_bytes() { return cache().cached_bytes(); }

}  // namespace tg::detail
