// The CUDA emulator's stream capture and graphs: cudaStreamBeginCapture ... cudaStreamEndCapture
// records a stream's work (kernel grids with their arguments copied at launch, async copies and
// fills, host functions) into a graph, and cudaGraphLaunch runs an instantiated graph's work in
// order, at once, each time it is called. Outside a capture, work runs at once (enqueue).
//
// CUDA's capture rules are enforced, so that an engine breaking one fails here as on a GPU:
// - during a capture, synchronous calls (cudaMemcpy, cudaMemset, cudaMemcpyPeer, cudaDeviceSynchronize,
//   cudaStreamSynchronize of the legacy stream) on the capture's device, and cudaStreamSynchronize
//   of the capturing stream, fail with cudaErrorStreamCaptureUnsupported and invalidate it; so do
//   cudaMalloc and cudaFree, unless every capture they meet is Relaxed (see Reach);
// - a failing captured call (bad arguments, a bad launch configuration) invalidates the capture too;
//   further work on the stream then fails with cudaErrorStreamCaptureInvalidated, and so does
//   cudaStreamEndCapture, which ends the capture without a graph;
// - beginning a capture twice, or ending one never begun, is cudaErrorIllegalState; ending a
//   Global or ThreadLocal capture from another thread than began it is cudaErrorStreamCaptureWrongThread.
// Stricter than CUDA: a synchronous call is refused even where the capturing stream is non-blocking
// (CUDA would let it pass), since an engine doing one in the middle of a captured pass is wrong.
//
// Not here: capturing the legacy or per-thread default stream (refused), cross-stream capture
// through events, graph node APIs, cudaThreadExchangeStreamCaptureMode (every thread is in Global
// interaction mode, CUDA's default), graph memory nodes. Work on a stream that is not capturing
// runs at once, also during another stream's capture.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "cuda_emulator.h"
#include "emulator_internal.h"

// The toolkit's opaque cudaGraph_t and cudaGraphExec_t point at these. An executable graph is a
// copy, so it outlives the graph it was instantiated from, as in CUDA.
struct CUgraph_st {
  std::vector<pix_emu::Work> nodes;
};
struct CUgraphExec_st {
  std::vector<pix_emu::Work> nodes;
};

namespace pix_emu {
namespace {

struct Capture {
  cudaStreamCaptureMode mode;
  std::thread::id thread;  // that began it
  int device;
  bool invalidated = false;
  std::vector<Work> nodes;
};

struct Captures {
  std::mutex mutex;
  std::map<cudaStream_t, Capture> by_stream;
  // by_stream's size, read without the lock so that launches outside any capture take no lock.
  std::atomic<size_t> count{0};
};

Captures& captures() {
  static Captures* c = new Captures();  // never destroyed: streams may be used during exit
  return *c;
}

cudaError_t fail(cudaError_t error) {
  set_last_error(error);
  return error;
}

// The capture `stream` is in, or nullptr; the caller holds the lock.
Capture* find(Captures& c, cudaStream_t stream) {
  auto it = c.by_stream.find(stream);
  return it == c.by_stream.end() ? nullptr : &it->second;
}

void erase(Captures& c, cudaStream_t stream) {
  c.by_stream.erase(stream);
  c.count.store(c.by_stream.size(), std::memory_order_relaxed);
}

// Whether `capture` forbids the calling thread a call of `reach` (kStream is matched by stream).
bool forbids(const Capture& capture, Reach reach) {
  if (reach == Reach::kDevice) return capture.device == this_device();
  return capture.mode == cudaStreamCaptureModeGlobal ||
         (capture.mode == cudaStreamCaptureModeThreadLocal && capture.thread == std::this_thread::get_id());
}

cudaError_t run_all(const std::vector<Work>& nodes) {
  for (const Work& node : nodes)
    if (cudaError_t error = node(); error != cudaSuccess) return error;
  return cudaSuccess;
}

}  // namespace

bool capturing(cudaStream_t stream) {
  Captures& c = captures();
  if (stream == nullptr || c.count.load(std::memory_order_relaxed) == 0) return false;
  std::lock_guard<std::mutex> lock(c.mutex);
  return find(c, stream) != nullptr;
}

cudaError_t enqueue(cudaStream_t stream, cudaError_t checked, Work work) {
  Captures& c = captures();
  if (stream != nullptr && c.count.load(std::memory_order_relaxed) != 0) {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (Capture* capture = find(c, stream)) {
      if (capture->invalidated) return fail(cudaErrorStreamCaptureInvalidated);
      if (checked != cudaSuccess) {
        capture->invalidated = true;
        return fail(checked);
      }
      capture->nodes.push_back(std::move(work));
      return cudaSuccess;
    }
  }
  return checked != cudaSuccess ? fail(checked) : work();  // unlocked: a host function may call the runtime
}

cudaError_t refuse_during_capture(Reach reach, cudaStream_t stream) {
  Captures& c = captures();
  if (c.count.load(std::memory_order_relaxed) == 0) return cudaSuccess;
  std::lock_guard<std::mutex> lock(c.mutex);
  bool refused = false;
  for (auto& [s, capture] : c.by_stream) {
    if (reach == Reach::kStream ? s != stream : !forbids(capture, reach)) continue;
    capture.invalidated = true;
    refused = true;
  }
  return refused ? fail(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}

void forget_capture(cudaStream_t stream) {
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mutex);
  erase(c, stream);
}

}  // namespace pix_emu

using namespace pix_emu;

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode mode) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread)
    return fail(cudaErrorStreamCaptureUnsupported);
  if (mode != cudaStreamCaptureModeGlobal && mode != cudaStreamCaptureModeThreadLocal &&
      mode != cudaStreamCaptureModeRelaxed)
    return fail(cudaErrorInvalidValue);
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (find(c, stream)) return fail(cudaErrorIllegalState);
  c.by_stream.emplace(stream, Capture{mode, std::this_thread::get_id(), stream->device, false, {}});
  c.count.store(c.by_stream.size(), std::memory_order_relaxed);
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  if (!graph) return fail(cudaErrorInvalidValue);
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mutex);
  Capture* capture = find(c, stream);
  if (!capture) return fail(cudaErrorIllegalState);
  if (capture->mode != cudaStreamCaptureModeRelaxed && capture->thread != std::this_thread::get_id())
    return fail(cudaErrorStreamCaptureWrongThread);
  *graph = capture->invalidated ? nullptr : new CUgraph_st{std::move(capture->nodes)};
  erase(c, stream);
  return *graph ? cudaSuccess : fail(cudaErrorStreamCaptureInvalidated);
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (!status) return fail(cudaErrorInvalidValue);
  Captures& c = captures();
  std::lock_guard<std::mutex> lock(c.mutex);
  const Capture* capture = find(c, stream);
  *status = !capture               ? cudaStreamCaptureStatusNone
            : capture->invalidated ? cudaStreamCaptureStatusInvalidated
                                   : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

// Of the flags, none changes anything here (no memory nodes to free, no upload, no priorities),
// except device launch, which is not emulated.
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags) {
  constexpr unsigned long long kAccepted = cudaGraphInstantiateFlagAutoFreeOnLaunch | cudaGraphInstantiateFlagUpload |
                                           cudaGraphInstantiateFlagUseNodePriority;
  if (!exec || !graph || (flags & ~kAccepted) != 0) return fail(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->nodes};
  return cudaSuccess;
}

// Runs the graph's work in order, stopping at the first that fails (a pointer freed since the
// capture, say; that work has set the last error). Launched into a capture, the graph is recorded
// whole, as CUDA adds a child graph.
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (!exec) return fail(cudaErrorInvalidValue);
  if (!capturing(stream)) return run_all(exec->nodes);
  return enqueue(stream, cudaSuccess, [nodes = exec->nodes] { return run_all(nodes); });
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  if (!exec) return fail(cudaErrorInvalidValue);
  delete exec;
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  if (!graph) return fail(cudaErrorInvalidValue);
  delete graph;
  return cudaSuccess;
}
