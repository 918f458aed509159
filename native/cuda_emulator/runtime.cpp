// The CUDA emulator's host side: the part of the CUDA runtime API the engine calls, implemented on
// the CPU with the toolkit's own declarations (cuda_runtime_api.h), so the emulated engine links no
// libcudart. Work is synchronous: a launch has finished when it returns, streams only order
// nothing, and synchronising is free; only a stream capturing into a graph keeps its work for later
// (graphs.cpp, where CUDA's rules for calls during a capture are enforced).
//
// Made to catch what the real runtime would refuse or what a GPU would hide:
// - "device" memory is tracked; a copy whose source or destination is not where its kind says
//   (a host pointer given as device memory, or the other way round) fails with
//   cudaErrorInvalidValue, as do copies and fills that run past the end of an allocation;
// - new allocations are filled with 0xFF bytes (NaN as f32 and bf16), so a kernel reading memory
//   nobody wrote shows NaN instead of the zeros fresh host pages would give;
// - PIX_CUDA_EMULATOR_MEMORY_MIB (default 16384) is each device's memory, so out-of-memory paths
//   can be tested; PIX_CUDA_EMULATOR_DEVICES (default 1) is the number of devices.
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "emulator_internal.h"

namespace pix_emu {
namespace {

constexpr size_t kAlignment = 256;  // cudaMalloc's guarantee

thread_local cudaError_t last_error = cudaSuccess;
thread_local int current_device = 0;

int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback;
  const int value = std::atoi(text);
  return value > 0 ? value : fallback;
}

int device_count() {
  static const int count = env_int("PIX_CUDA_EMULATOR_DEVICES", 1);
  return count;
}

size_t device_memory() {
  static const size_t bytes = size_t(env_int("PIX_CUDA_EMULATOR_MEMORY_MIB", 16384)) << 20;
  return bytes;
}

struct Allocation {
  size_t bytes;
  int device;
};

struct Memory {
  std::mutex mutex;
  std::map<const char*, Allocation> live;  // start -> allocation
  std::map<int, size_t> used;              // device -> bytes
};

Memory& memory() {
  static Memory* m = new Memory();  // never destroyed: tensors may be freed during exit
  return *m;
}

// The allocation holding [ptr, ptr + bytes), or nullptr.
const Allocation* find_allocation(Memory& m, const void* ptr, size_t bytes) {
  const char* p = static_cast<const char*>(ptr);
  auto it = m.live.upper_bound(p);
  if (it == m.live.begin()) return nullptr;
  --it;
  return p + bytes <= it->first + it->second.bytes ? &it->second : nullptr;
}

bool is_device(const void* ptr, size_t bytes) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  return find_allocation(m, ptr, bytes) != nullptr;
}

cudaError_t fail_with(cudaError_t error) {
  last_error = error;
  return error;
}

bool kind_matches(const void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  const bool dst_device = is_device(dst, bytes), src_device = is_device(src, bytes);
  switch (kind) {
    case cudaMemcpyHostToDevice: return dst_device && !src_device;
    case cudaMemcpyDeviceToHost: return !dst_device && src_device;
    case cudaMemcpyDeviceToDevice: return dst_device && src_device;
    case cudaMemcpyHostToHost: return !dst_device && !src_device;
    case cudaMemcpyDefault: return true;
  }
  return false;
}

// A copy's and a fill's argument checks, and the checked work itself: the checks run again when a
// captured copy or fill is replayed, since its memory may have been freed since.
cudaError_t check_copy(const void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return bytes == 0 || kind_matches(dst, src, bytes, kind) ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (cudaError_t error = check_copy(dst, src, bytes, kind); error != cudaSuccess) return fail_with(error);
  if (bytes > 0) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t check_fill(const void* dst, size_t bytes) {
  return bytes == 0 || is_device(dst, bytes) ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t fill(void* dst, int value, size_t bytes) {
  if (cudaError_t error = check_fill(dst, bytes); error != cudaSuccess) return fail_with(error);
  if (bytes > 0) std::memset(dst, value, bytes);
  return cudaSuccess;
}

bool is_legacy(cudaStream_t stream) { return stream == nullptr || stream == cudaStreamLegacy; }

}  // namespace

void set_last_error(cudaError_t error) { last_error = error; }
int this_device() { return current_device; }

}  // namespace pix_emu

using namespace pix_emu;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  if (cudaError_t error = refuse_during_capture(Reach::kAllocator); error != cudaSuccess) return error;
  if (bytes == 0) return cudaSuccess;
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  size_t& used = m.used[current_device];
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded > device_memory() - used) return fail_with(cudaErrorMemoryAllocation);
  // Exactly `bytes`, so that AddressSanitizer (PIX_CUDA_EMULATOR_ASAN) sees the end of the block.
  void* block = nullptr;
  if (posix_memalign(&block, kAlignment, bytes) != 0) return fail_with(cudaErrorMemoryAllocation);
  std::memset(block, 0xFF, bytes);
  m.live[static_cast<const char*>(block)] = {bytes, current_device};
  used += rounded;
  *ptr = block;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (cudaError_t error = refuse_during_capture(Reach::kAllocator); error != cudaSuccess) return error;
  if (!ptr) return cudaSuccess;
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  auto it = m.live.find(static_cast<const char*>(ptr));
  if (it == m.live.end()) return fail_with(cudaErrorInvalidValue);
  m.used[it->second.device] -= (it->second.bytes + kAlignment - 1) / kAlignment * kAlignment;
  m.live.erase(it);
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  Memory& m = memory();
  std::lock_guard<std::mutex> lock(m.mutex);
  *total_bytes = device_memory();
  *free_bytes = device_memory() - m.used[current_device];
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (cudaError_t error = refuse_during_capture(Reach::kDevice); error != cudaSuccess) return error;
  return copy(dst, src, bytes, kind);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  return enqueue(stream, check_copy(dst, src, bytes, kind), [=] { return copy(dst, src, bytes, kind); });
}

// Pinned host memory is plain host memory here: every copy is done when its call returns anyway.
cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  if (!ptr) return fail_with(cudaErrorInvalidValue);
  *ptr = std::malloc(bytes > 0 ? bytes : 1);
  return *ptr ? cudaSuccess : fail_with(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device, size_t bytes) {
  if (dst_device < 0 || dst_device >= device_count() || src_device < 0 || src_device >= device_count())
    return fail_with(cudaErrorInvalidDevice);
  return cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice);
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (cudaError_t error = refuse_during_capture(Reach::kDevice); error != cudaSuccess) return error;
  return fill(dst, value, bytes);
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  return enqueue(stream, check_fill(dst, bytes), [=] { return fill(dst, value, bytes); });
}

cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* data) {
  return enqueue(stream, fn ? cudaSuccess : cudaErrorInvalidValue, [=] {
    fn(data);
    return cudaSuccess;
  });
}

// Streams differ only in their device and in whether they capture, so the flags change nothing.
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  *stream = new CUstream_st{current_device};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  if (is_legacy(stream) || stream == cudaStreamPerThread) return fail_with(cudaErrorInvalidResourceHandle);
  forget_capture(stream);
  delete stream;
  return cudaSuccess;
}

// Events order streams, and every stream's work here has run by the time its call returns, so
// recording and waiting order nothing. What CUDA checks is checked: the handles, the flags, and an
// event recorded on a stream of its own device. Events within a capture (the cross-stream
// dependencies CUDA records) are not modelled: they are refused, and the capture invalidated.
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  constexpr unsigned int kKnown = cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess;
  if (!event || (flags & ~kKnown) != 0) return fail_with(cudaErrorInvalidValue);
  *event = new CUevent_st{current_device};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  if (!event) return fail_with(cudaErrorInvalidResourceHandle);
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event) return fail_with(cudaErrorInvalidResourceHandle);
  const int device = is_legacy(stream) || stream == cudaStreamPerThread ? current_device : stream->device;
  if (device != event->device) return fail_with(cudaErrorInvalidResourceHandle);
  return refuse_during_capture(Reach::kStream, stream);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event, unsigned int flags) {
  if (!event) return fail_with(cudaErrorInvalidResourceHandle);
  if (flags != 0) return fail_with(cudaErrorInvalidValue);
  return refuse_during_capture(Reach::kStream, stream);
}

// Work is done when its call returns, so a recorded event has always happened.
cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return fail_with(cudaErrorInvalidResourceHandle);
  return refuse_during_capture(Reach::kDevice);
}

// The legacy stream synchronises with the whole device, so it is refused during any capture on it.
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  const cudaError_t refused =
      is_legacy(stream) ? refuse_during_capture(Reach::kDevice) : refuse_during_capture(Reach::kStream, stream);
  return refused != cudaSuccess ? refused : last_error;
}

cudaError_t cudaDeviceSynchronize() {
  if (cudaError_t error = refuse_during_capture(Reach::kDevice); error != cudaSuccess) return error;
  return last_error;
}

cudaError_t cudaGetLastError() {
  const cudaError_t error = last_error;
  last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() { return last_error; }

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureWrongThread:
      return "attempt to terminate a thread-local capture sequence from another thread";
    default: return "unknown error";
  }
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = device_count();
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= device_count()) return fail_with(cudaErrorInvalidDevice);
  current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = current_device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device < 0 || device >= device_count()) return fail_with(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  std::strncpy(prop->name, "PiX CUDA emulator (CPU)", sizeof(prop->name) - 1);
  prop->major = 9;  // the architecture the engine's kernels are compiled for
  prop->minor = 0;
  prop->totalGlobalMem = device_memory();
  prop->multiProcessorCount = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}
