// What the emulator's parts share: the scheduler (kernels) reports launch errors through the
// runtime's per-thread last error, as the CUDA runtime does; stream work goes through graphs.cpp,
// which runs it at once or records it into the stream's capture.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>

// A stream of cudaStreamCreateWithFlags: the device that was current when it was created.
struct CUstream_st {
  int device;
};

// An event of cudaEventCreateWithFlags. Stream work here is done when its call returns, so an event
// is complete as soon as it is recorded; what is kept is the device, which CUDA checks.
struct CUevent_st {
  int device;
};

namespace pix_emu {

void set_last_error(cudaError_t error);
int this_device();  // the calling thread's current device (cudaSetDevice)

// One piece of stream work (a copy, a fill, a kernel's grid, a host function) that may run more than
// once: it checks its pointers each time it runs, since memory may have been freed since.
using Work = std::function<cudaError_t()>;

// Runs `work` now, or appends it to the capture `stream` is in. `checked` is the call's own check of
// its arguments, made when it is called in either case, as CUDA checks a captured call at capture:
// an error is returned (and set as the last error) and, during a capture, invalidates it.
cudaError_t enqueue(cudaStream_t stream, cudaError_t checked, Work work);

// What a call that CUDA refuses during a capture reaches: the whole current device (a synchronous
// copy or fill, a device synchronisation), one stream (its synchronisation), or the allocator
// (cudaMalloc, cudaFree: refused by Global-mode captures of any thread and ThreadLocal-mode
// captures of the calling thread, allowed by Relaxed ones).
enum class Reach { kDevice, kStream, kAllocator };

// cudaErrorStreamCaptureUnsupported, after invalidating the captures the call would disturb, where
// there are any; else cudaSuccess. `stream` is read for kStream only.
cudaError_t refuse_during_capture(Reach reach, cudaStream_t stream = nullptr);

// cudaStreamDestroy's part: a capture the stream was in ends with it, graphless.
void forget_capture(cudaStream_t stream);

}  // namespace pix_emu
