// CUDA device management: the device inventory for `pix info`, the per-device engine stream, and
// the copies tensors use to cross between host and device.
#include <cstring>
#include <memory>
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

namespace {

// Host-to-device copies are staged through pinned buffers: the caller's bytes are copied into one,
// so the caller may free or reuse its memory at once, and the DMA is queued on the engine stream
// without waiting for it. A batch uploaded while the step before it still runs (the trainer
// uploads the next batch during the backward) then stalls neither the host nor the GPU; a copy
// from pageable memory would wait for every kernel queued before it. Each device has kSlots
// buffers, used in turn and grown on demand; one is refilled only once the copy that last read it
// is done (its event). Copies above kStagingMax, copies during a graph capture (the graph would keep
// reading a reused buffer) and copies when no pinned memory is to be had go straight from the
// caller's memory and wait, as every copy did before.
constexpr int kSlots = 4;
constexpr size_t kStagingMax = size_t{128} << 20;  // an f32 batch of 128 images at 224 px is 77 MB

struct StagingSlot {
  void* host = nullptr;
  size_t capacity = 0;
  cudaEvent_t done = nullptr;
  bool in_flight = false;
};

struct Staging {
  std::mutex mutex;
  StagingSlot slots[kSlots];
  int next = 0;
};

Staging& staging(int device) {
  static std::mutex mutex;
  static std::vector<std::unique_ptr<Staging>> all;  // never freed: pinned memory lives with the process
  std::lock_guard<std::mutex> lock(mutex);
  if (static_cast<size_t>(device) >= all.size()) all.resize(device + 1);
  if (!all[device]) all[device] = std::make_unique<Staging>();
  return *all[device];
}

// A slot holding at least `bytes` whose last copy is done; null when no pinned memory is to be had.
StagingSlot* free_slot(Staging& st, size_t bytes) {
  StagingSlot& slot = st.slots[st.next];
  st.next = (st.next + 1) % kSlots;
  if (slot.in_flight) PIX_CUDA_CHECK(cudaEventSynchronize(slot.done));
  slot.in_flight = false;
  if (slot.done == nullptr) PIX_CUDA_CHECK(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming));
  if (slot.capacity >= bytes) return &slot;
  if (slot.host) PIX_CUDA_CHECK(cudaFreeHost(slot.host));
  slot.host = nullptr, slot.capacity = 0;
  const size_t rounded = (bytes + (size_t{1} << 20) - 1) & ~((size_t{1} << 20) - 1);  // whole MiB: fewer regrowths
  if (cudaMallocHost(&slot.host, rounded) != cudaSuccess) {
    cudaGetLastError();  // pinned memory is limited: the caller copies unstaged instead
    slot.host = nullptr;
    return nullptr;
  }
  slot.capacity = rounded;
  return &slot;
}

}  // namespace

void copy_host_to_device(int device, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  set_device(device);
  cudaStream_t s = stream(device);
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  PIX_CUDA_CHECK(cudaStreamIsCapturing(s, &capture));
  if (bytes <= kStagingMax && capture == cudaStreamCaptureStatusNone) {
    Staging& st = staging(device);
    std::lock_guard<std::mutex> lock(st.mutex);
    if (StagingSlot* slot = free_slot(st, bytes)) {
      std::memcpy(slot->host, src, bytes);
      PIX_CUDA_CHECK(cudaMemcpyAsync(dst, slot->host, bytes, cudaMemcpyHostToDevice, s));
      PIX_CUDA_CHECK(cudaEventRecord(slot->done, s));
      slot->in_flight = true;
      return;
    }
  }
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
