// One block of tensor memory on one device. CPU blocks are 64-byte aligned (a cache line, and the
// widest AVX-512 load); CUDA blocks come from the caching allocator, so steady-state training steps
// never call cudaMalloc.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

namespace pix {

constexpr size_t kCpuAlignment = 64;

class Storage {
 public:
  Storage(size_t bytes, Device device);  // uninitialised memory; throws pix::Error when out of memory
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

// Copies bytes between any two devices (host<->device, device<->device); blocks until done.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);
// Fills bytes with zeros on any device.
void zero_bytes(void* dst, Device device, size_t bytes);

}  // namespace pix
