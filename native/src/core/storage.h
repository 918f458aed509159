// One block of tensor memory on one device. Both devices' blocks come from caching allocators
// (core/cpu_allocator.h, core/cuda/caching_allocator.cu), so steady-state training steps neither
// fault in fresh pages nor call cudaMalloc.
#pragma once

#include <cstddef>
#include <memory>

#include "core/device.h"

namespace pix {

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
