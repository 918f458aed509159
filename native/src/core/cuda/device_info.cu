// CUDA device management: the device inventory for `pix info`, the per-device engine stream, and
// the synchronous copies tensors use to cross between host and device.
#include <mutex>
#include <vector>

#include "core/cuda/check.h"
#include "core/cuda/runtime.h"

namespace pix::cuda {

void set_device(int device) {
  const cudaError_t status = cudaSetDevice(device);
  if (status == cudaSuccess) return;
  cudaGetLastError();
  int count = 0;
  if (cudaGetDeviceCount(&count) == cudaSuccess && device >= count)
    throw Error(concat("cuda:", device, " does not exist (", count, " CUDA device", count == 1 ? "" : "s", " found)"));
  cudaGetLastError();
  throw Error(concat("cuda:", device, " is not usable: ", cudaGetErrorString(status)));
}

cudaStream_t stream(int device) {
  static std::mutex mutex;
  static std::vector<cudaStream_t> streams;
  std::lock_guard<std::mutex> lock(mutex);
  if (static_cast<size_t>(device) >= streams.size()) streams.resize(device + 1, nullptr);
  if (streams[device] == nullptr) {
    set_device(device);
    PIX_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[device], cudaStreamNonBlocking));
  }
  return streams[device];
}

void copy_host_to_device(int device, void* dst, const void* src, size_t bytes) {
  set_device(device);
  cudaStream_t s = stream(device);
  PIX_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
  PIX_CUDA_CHECK(cudaStreamSynchronize(s));
}

void copy_device_to_host(int device, void* dst, const void* src, size_t bytes) {
  set_device(device);
  cudaStream_t s = stream(device);
  PIX_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s));
  PIX_CUDA_CHECK(cudaStreamSynchronize(s));
}

void copy_device_to_device(int dst_device, void* dst, int src_device, const void* src, size_t bytes) {
  if (dst_device == src_device) {  // ordered on the device's one stream: nothing to wait for
    set_device(dst_device);
    PIX_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream(dst_device)));
    return;
  }
  synchronize(src_device);  // the source may still be being written on its own stream
  PIX_CUDA_CHECK(cudaMemcpyPeer(dst, dst_device, src, src_device, bytes));
}

void zero_device(int device, void* dst, size_t bytes) {
  set_device(device);
  PIX_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream(device)));
}

void synchronize(int device) {
  set_device(device);
  PIX_CUDA_CHECK(cudaStreamSynchronize(stream(device)));
}

Inventory inventory() {
  Inventory inv;
  cudaRuntimeGetVersion(&inv.runtime_version);
  if (cudaDriverGetVersion(&inv.driver_version) != cudaSuccess) inv.driver_version = 0;
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();
    inv.unavailable_reason = concat("no usable CUDA device: ", cudaGetErrorString(status));
    return inv;
  }
  if (count == 0) inv.unavailable_reason = "the CUDA driver reports no devices";
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    PIX_CUDA_CHECK(cudaGetDeviceProperties(&prop, i));
    inv.devices.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  return inv;
}

}  // namespace pix::cuda
