// The CUDA backend's host-side entry points, callable from plain C++ (no CUDA headers here):
// the caching allocator, copies, the per-device stream and the device inventory.
// Implemented in caching_allocator.cu and device_info.cu; reached only through PIX_CUDA_CALL.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pix::cuda {

// ---- caching allocator ----
// While a CUDA graph is captured on a device (core/cuda/graph.h), its allocations come from a pool
// of the graph's own: blocks freed during the capture are reused only within it, and none is handed
// to other work while the graph lives, since every replay writes them again. One capture per device
// at a time; other threads allocating on that device meanwhile draw from the graph's pool too.
int begin_graph_pool(int device);              // the new pool's id; allocations on device go there
void end_graph_pool(int device);               // back to the shared cache
void release_graph_pool(int device, int pool); // its free blocks to the driver; its live ones join the shared cache when freed
void* cache_alloc(int device, size_t bytes);    // throws pix::Error on out-of-memory, naming sizes
void cache_free(int device, void* ptr);          // returns the block to the cache, never to the driver
void empty_cache();                              // gives every cached free block back to the driver
struct MemoryStats {
  size_t allocated_bytes = 0;       // in live tensors
  size_t reserved_bytes = 0;        // held from the driver (live + cached)
  size_t peak_allocated_bytes = 0;
  size_t driver_allocations = 0;    // cudaMalloc calls so far: flat in a steady-state loop
};
MemoryStats memory_stats(int device);

// ---- copies on the device's engine stream: synchronous for the caller, but for a copy within one
// device, which is ordered on that device's stream like every kernel (and so may be captured into a
// CUDA graph), and a copy from the host, which returns once the bytes are staged in pinned memory
// (the source may then be reused) with the transfer queued behind the device's earlier work ----
void copy_host_to_device(int device, void* dst, const void* src, size_t bytes);
void copy_device_to_host(int device, void* dst, const void* src, size_t bytes);
void copy_device_to_device(int dst_device, void* dst, int src_device, const void* src, size_t bytes);
void zero_device(int device, void* dst, size_t bytes);
void synchronize(int device);

// ---- inventory ----
struct DeviceProperties {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;
  size_t total_memory = 0;
  int multiprocessors = 0;
};
struct Inventory {
  int runtime_version = 0;  // e.g. 13000
  int driver_version = 0;   // 0 when no driver answered
  std::vector<DeviceProperties> devices;
  std::string unavailable_reason;  // set when devices is empty
};
Inventory inventory();

}  // namespace pix::cuda
