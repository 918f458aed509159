#include "core/cpu_allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "core/error.h"

namespace pix {
namespace {

constexpr size_t kCacheThreshold = 1u << 20;   // smaller blocks go straight to malloc's own bins
constexpr size_t kRound = 1u << 16;            // cached sizes round to 64 KiB: fewer distinct sizes
constexpr size_t kMaxCachedBytes = 8ull << 30;  // beyond this, freed blocks go back to the OS

std::mutex cache_mutex;
std::multimap<size_t, void*>& free_blocks() {
  static auto* blocks = new std::multimap<size_t, void*>();  // never destroyed: frees may run at exit
  return *blocks;
}
size_t cached_bytes = 0;

size_t rounded(size_t bytes) {
  if (bytes < kCacheThreshold) return (bytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  return (bytes + kRound - 1) / kRound * kRound;
}

}  // namespace

void* cpu_alloc(size_t bytes) {
  const size_t size = rounded(bytes);
  if (size >= kCacheThreshold) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = free_blocks().lower_bound(size);
    if (it != free_blocks().end() && it->first == size) {  // exact size: no waste, no bookkeeping
      void* block = it->second;
      cached_bytes -= it->first;
      free_blocks().erase(it);
      return block;
    }
  }
  void* block = std::aligned_alloc(kCpuAlignment, size);
  if (block == nullptr) {
    cpu_empty_cache();
    block = std::aligned_alloc(kCpuAlignment, size);
  }
  PIX_CHECK(block != nullptr, "out of host memory allocating ", bytes >> 20, " MiB");
  return block;
}

void cpu_free(void* ptr, size_t bytes) {
  const size_t size = rounded(bytes);
  if (size >= kCacheThreshold) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cached_bytes + size <= kMaxCachedBytes) {
      free_blocks().emplace(size, ptr);
      cached_bytes += size;
      return;
    }
  }
  std::free(ptr);
}

void cpu_empty_cache() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  for (auto& [size, block] : free_blocks()) std::free(block);
  free_blocks().clear();
  cached_bytes = 0;
}

}  // namespace pix
