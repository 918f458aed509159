// Caching CUDA allocator: freed blocks go to a per-device pool and are reused for later requests
// of a similar size, so a training loop that allocates the same tensors every step stops calling
// cudaMalloc (which synchronises the device) after its first step. All engine work on a device is
// ordered on one stream, so a block freed by the host can be handed out again at once.
//
// Deliberately simple: no block splitting; a request takes the smallest cached block that is at
// least as large and at most twice as large (so small tensors never pin giant blocks).
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/cuda/check.h"
#include "core/cuda/runtime.h"

namespace pix::cuda {
namespace {

constexpr size_t kRoundSmall = 512;            // every block is a multiple of this
constexpr size_t kRoundLarge = 2u << 20;       // blocks over 1 MiB round to 2 MiB: fewer distinct sizes
constexpr size_t kLargeThreshold = 1u << 20;

// The CUDA emulator's AddressSanitizer build (native/cuda_emulator) needs every block to end where
// its tensor ends and cached blocks to be out of bounds, so that a kernel reading past a tensor or
// a freed one is caught: blocks are then exactly the size asked for, reused only at that size, and
// poisoned while cached.
#if defined(PIX_CUDA_EMULATOR_ASAN)
#include <sanitizer/asan_interface.h>
constexpr bool kExactBlocks = true;
void poison(void* block, size_t size) { ASAN_POISON_MEMORY_REGION(block, size); }
void unpoison(void* block, size_t size) { ASAN_UNPOISON_MEMORY_REGION(block, size); }
#else
constexpr bool kExactBlocks = false;
void poison(void*, size_t) {}
void unpoison(void*, size_t) {}
#endif

size_t round_size(size_t bytes) {
  if (kExactBlocks) return bytes;
  const size_t unit = bytes > kLargeThreshold ? kRoundLarge : kRoundSmall;
  return (bytes + unit - 1) / unit * unit;
}

struct DevicePool {
  std::multimap<size_t, void*> free_blocks;           // size -> block
  std::unordered_map<void*, size_t> live_blocks;      // block -> size
  MemoryStats stats;
  // CUDA graphs' pools (runtime.h): the one being captured into (0: none), each live pool's free
  // blocks, and which pool every block allocated during a capture belongs to. A graph's free blocks
  // are never poisoned: its replays still write them.
  int capturing = 0;
  std::map<int, std::multimap<size_t, void*>> graph_free;
  std::unordered_map<void*, int> graph_owned;
};

int next_graph_pool = 1;  // under pool_mutex

std::mutex pool_mutex;
std::vector<DevicePool>& pools() {
  static std::vector<DevicePool> all;
  return all;
}

DevicePool& pool_for(int device) {
  auto& all = pools();
  if (static_cast<size_t>(device) >= all.size()) all.resize(device + 1);
  return all[device];
}

void release_cached(int device, DevicePool& pool) {
  set_device(device);
  for (auto& [size, block] : pool.free_blocks) {
    unpoison(block, size);
    cudaFree(block);
    pool.stats.reserved_bytes -= size;
  }
  pool.free_blocks.clear();
}

}  // namespace

void* cache_alloc(int device, size_t bytes) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  DevicePool& pool = pool_for(device);
  const size_t size = round_size(bytes);
  void* block = nullptr;
  std::multimap<size_t, void*>& cached = pool.capturing ? pool.graph_free[pool.capturing] : pool.free_blocks;
  auto it = cached.lower_bound(size);
  if (it != cached.end() && (kExactBlocks ? it->first == size : it->first <= 2 * size)) {
    block = it->second;
    if (!pool.capturing) unpoison(block, it->first);
    pool.live_blocks[block] = it->first;
    pool.stats.allocated_bytes += it->first;
    cached.erase(it);
  } else {
    set_device(device);
    cudaError_t status = cudaMalloc(&block, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear the sticky-free error state before retrying
      release_cached(device, pool);
      status = cudaMalloc(&block, size);
    }
    if (status != cudaSuccess) {
      cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      cudaMemGetInfo(&free_bytes, &total_bytes);
      throw Error(concat("CUDA out of memory on cuda:", device, ": tried to allocate ", size >> 20, " MiB with ",
                         pool.stats.allocated_bytes >> 20, " MiB in use by the engine, ", free_bytes >> 20, " of ",
                         total_bytes >> 20, " MiB free on the device (", cudaGetErrorString(status),
                         "); try a smaller batch size"));
    }
    pool.live_blocks[block] = size;
    pool.stats.allocated_bytes += size;
    pool.stats.reserved_bytes += size;
    pool.stats.driver_allocations += 1;
    if (pool.capturing) pool.graph_owned[block] = pool.capturing;
  }
  pool.stats.peak_allocated_bytes = std::max(pool.stats.peak_allocated_bytes, pool.stats.allocated_bytes);
  return block;
}

void cache_free(int device, void* ptr) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  DevicePool& pool = pool_for(device);
  auto it = pool.live_blocks.find(ptr);
  if (it == pool.live_blocks.end()) return;
  pool.stats.allocated_bytes -= it->second;
  const auto owner = pool.graph_owned.find(ptr);
  const auto graph = owner == pool.graph_owned.end() ? pool.graph_free.end() : pool.graph_free.find(owner->second);
  if (graph != pool.graph_free.end()) {
    graph->second.emplace(it->second, ptr);
  } else {
    if (owner != pool.graph_owned.end()) pool.graph_owned.erase(owner);  // its graph is gone
    poison(ptr, it->second);
    pool.free_blocks.emplace(it->second, ptr);
  }
  pool.live_blocks.erase(it);
}

int begin_graph_pool(int device) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  DevicePool& pool = pool_for(device);
  PIX_CHECK(pool.capturing == 0, "cuda:", device, " is already capturing a CUDA graph");
  pool.capturing = next_graph_pool++;
  pool.graph_free[pool.capturing];
  return pool.capturing;
}

void end_graph_pool(int device) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  pool_for(device).capturing = 0;
}

void release_graph_pool(int device, int id) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  DevicePool& pool = pool_for(device);
  const auto graph = pool.graph_free.find(id);
  if (graph == pool.graph_free.end()) return;
  set_device(device);
  for (auto& [size, block] : graph->second) {
    cudaFree(block);
    pool.stats.reserved_bytes -= size;
    pool.graph_owned.erase(block);
  }
  pool.graph_free.erase(graph);
}

void empty_cache() {
  std::lock_guard<std::mutex> lock(pool_mutex);
  auto& all = pools();
  for (size_t device = 0; device < all.size(); ++device) release_cached(static_cast<int>(device), all[device]);
}

MemoryStats memory_stats(int device) {
  std::lock_guard<std::mutex> lock(pool_mutex);
  return pool_for(device).stats;
}

}  // namespace pix::cuda
