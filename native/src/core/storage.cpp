#include "core/storage.h"

#include <cstring>

#include "core/cpu_allocator.h"
#include "core/cuda/runtime.h"
#include "core/cuda_dispatch.h"
#include "core/error.h"

namespace pix {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    data_ = cpu_alloc(bytes);
    return;
  }
  PIX_CUDA_CALL(data_ = cuda::cache_alloc(device.index, bytes));
}

namespace {
void release(void* data, size_t bytes, Device device) {
  if (device.is_cpu()) {
    cpu_free(data, bytes);
    return;
  }
  PIX_CUDA_CALL(cuda::cache_free(device.index, data));
}
}  // namespace

Storage::~Storage() {
  if (data_ == nullptr) return;
  try {
    release(data_, bytes_, device_);
  } catch (...) {
    // A destructor must not throw; the only failure is a CUDA context already torn down at exit.
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, bytes);
  } else if (dst_device.is_cpu()) {
    PIX_CUDA_CALL(cuda::copy_device_to_host(src_device.index, dst, src, bytes));
  } else if (src_device.is_cpu()) {
    PIX_CUDA_CALL(cuda::copy_host_to_device(dst_device.index, dst, src, bytes));
  } else {
    PIX_CUDA_CALL(cuda::copy_device_to_device(dst_device.index, dst, src_device.index, src, bytes));
  }
}

void zero_bytes(void* dst, Device device, size_t bytes) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    std::memset(dst, 0, bytes);
    return;
  }
  PIX_CUDA_CALL(cuda::zero_device(device.index, dst, bytes));
}

}  // namespace pix
