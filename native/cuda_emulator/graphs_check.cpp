// A check of the CUDA emulator's stream capture and graphs (graphs.cpp) on its own, without the
// engine: small kernels, copies, fills and host functions captured on a stream and replayed; every
// call CUDA refuses during a capture, with its error and the invalidated capture it leaves; the
// capture states; the allocator's rules by capture mode. It prints what it checked and exits
// non-zero on any failure.
//
// "Device" memory is host memory in the emulator, so the check reads it directly to see that
// nothing ran during a capture, where a real program would have to copy it back.
//
// Built with the emulated engine (emulated_cuda.cmake); run, from the build folder:
//   cuda_emulator/pix_cuda_graphs_check
// Where PIX_CUDA_EMULATOR_ASAN=ON it is built with AddressSanitizer, leak checks included.
#include <cstdio>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "cuda_emulator.h"

namespace {

constexpr int kCount = 100;  // elements per buffer: not a multiple of the block, so the bounds check runs
constexpr unsigned kBlock = 32;
const dim3 kGrid{(kCount + kBlock - 1) / kBlock};
constexpr size_t kBytes = kCount * sizeof(float);

__global__ void add_one(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] += 1.0f;
}

__global__ void scale(float* x, float factor, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= factor;
}

void count_call(void* counter) { ++*static_cast<int*>(counter); }

int checks = 0, failures = 0;

void expect(bool ok, const std::string& what) {
  ++checks;
  if (ok) return;
  ++failures;
  std::printf("  FAIL: %s\n", what.c_str());
}

void expect_status(cudaError_t got, cudaError_t want, const std::string& what) {
  expect(got == want, what + ": " + cudaGetErrorString(got) + " (" + std::to_string(got) + "), expected " +
                          cudaGetErrorString(want) + " (" + std::to_string(want) + ")");
}

void expect_capture(cudaStream_t stream, cudaStreamCaptureStatus want, const std::string& what) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  expect_status(cudaStreamIsCapturing(stream, &status), cudaSuccess, what + ": cudaStreamIsCapturing");
  expect(status == want, what + ": capture status " + std::to_string(status) + ", expected " + std::to_string(want));
}

bool all_equal(const float* x, float value) {
  for (int i = 0; i < kCount; ++i)
    if (x[i] != value) return false;
  return true;
}

void fill_host(float* x, float value) {
  for (int i = 0; i < kCount; ++i) x[i] = value;
}

// A stream, two device buffers and a host one, for each section.
struct Fixture {
  cudaStream_t stream = nullptr, other = nullptr;
  float* a = nullptr;
  float* b = nullptr;
  std::vector<float> host = std::vector<float>(kCount, -1.0f);
  Fixture() {
    expect_status(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess, "create a stream");
    expect_status(cudaStreamCreateWithFlags(&other, cudaStreamNonBlocking), cudaSuccess, "create a second stream");
    expect_status(cudaMalloc(reinterpret_cast<void**>(&a), kBytes), cudaSuccess, "cudaMalloc a");
    expect_status(cudaMalloc(reinterpret_cast<void**>(&b), kBytes), cudaSuccess, "cudaMalloc b");
  }
  ~Fixture() {
    cudaFree(a);
    cudaFree(b);
    cudaStreamDestroy(stream);
    cudaStreamDestroy(other);
    cudaGetLastError();
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;
};

// memset a to 0, a += 1, a *= 3, b = a, host = b, ++counter: captured (Relaxed), then replayed.
void check_capture_and_replay() {
  Fixture f;
  int counter = 0;
  std::vector<float> five(kCount, 5.0f);
  expect_status(cudaMemcpy(f.a, five.data(), kBytes, cudaMemcpyHostToDevice), cudaSuccess, "cudaMemcpy before capture");

  expect_capture(f.stream, cudaStreamCaptureStatusNone, "before the capture");
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaSuccess, "begin (Relaxed)");
  expect_capture(f.stream, cudaStreamCaptureStatusActive, "during the capture");
  float factor = 3.0f;
  expect_status(cudaMemsetAsync(f.a, 0, kBytes, f.stream), cudaSuccess, "captured cudaMemsetAsync");
  ::pix_emu::launch(add_one, kGrid, dim3(kBlock), 0, f.stream)(f.a, kCount);
  ::pix_emu::launch(scale, kGrid, dim3(kBlock), 0, f.stream)(f.a, factor, kCount);
  factor = 100.0f;  // the launch copied 3 at launch time, as CUDA does
  expect_status(cudaMemcpyAsync(f.b, f.a, kBytes, cudaMemcpyDeviceToDevice, f.stream), cudaSuccess,
                "captured cudaMemcpyAsync device to device");
  expect_status(cudaMemcpyAsync(f.host.data(), f.b, kBytes, cudaMemcpyDeviceToHost, f.stream), cudaSuccess,
                "captured cudaMemcpyAsync device to host");
  expect_status(cudaLaunchHostFunc(f.stream, count_call, &counter), cudaSuccess, "captured cudaLaunchHostFunc");
  expect_status(cudaGetLastError(), cudaSuccess, "no error after the captured launches");
  expect(all_equal(f.a, 5.0f), "nothing ran during the capture: a still holds 5");
  expect(all_equal(f.host.data(), -1.0f), "nothing ran during the capture: the host buffer is untouched");
  expect(counter == 0, "nothing ran during the capture: the host function was not called");

  // Relaxed: the allocator may be used, at once, and is not recorded.
  void* scratch = nullptr;
  expect_status(cudaMalloc(&scratch, 64), cudaSuccess, "cudaMalloc during a Relaxed capture");
  expect(scratch != nullptr, "cudaMalloc during a Relaxed capture returns memory at once");
  expect_status(cudaFree(scratch), cudaSuccess, "cudaFree during a Relaxed capture");
  // Another stream's work runs at once, and its synchronisation is allowed.
  expect_status(cudaMemsetAsync(f.b, 0, kBytes, f.other), cudaSuccess, "cudaMemsetAsync on another stream");
  ::pix_emu::launch(add_one, kGrid, dim3(kBlock), 0, f.other)(f.b, kCount);
  expect(all_equal(f.b, 1.0f), "work on another stream ran at once");
  int at_once = 0;
  expect_status(cudaLaunchHostFunc(f.other, count_call, &at_once), cudaSuccess, "host function on another stream");
  expect(at_once == 1, "a host function on another stream ran at once");
  expect_status(cudaStreamSynchronize(f.other), cudaSuccess, "cudaStreamSynchronize of another stream");
  expect_capture(f.stream, cudaStreamCaptureStatusActive, "after the allowed calls");

  cudaGraph_t graph = nullptr;
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaSuccess, "end the capture");
  expect(graph != nullptr, "the capture gives a graph");
  expect_capture(f.stream, cudaStreamCaptureStatusNone, "after the capture");
  cudaGraphExec_t exec = nullptr;
  expect_status(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess, "cudaGraphInstantiate");
  expect_status(cudaGraphDestroy(graph), cudaSuccess, "cudaGraphDestroy (the executable graph outlives it)");
  expect(all_equal(f.a, 5.0f) && counter == 0, "nothing ran at instantiation");

  for (int replay = 1; replay <= 3; ++replay) {
    const std::string which = "replay " + std::to_string(replay);
    fill_host(f.a, 7.0f);
    fill_host(f.host.data(), -1.0f);
    expect_status(cudaGraphLaunch(exec, f.stream), cudaSuccess, which + ": cudaGraphLaunch");
    expect_status(cudaStreamSynchronize(f.stream), cudaSuccess, which + ": cudaStreamSynchronize");
    expect(all_equal(f.a, 3.0f), which + ": a is (0 + 1) * 3, with the factor of the launch");
    expect(all_equal(f.b, 3.0f), which + ": b is a copy of a");
    expect(all_equal(f.host.data(), 3.0f), which + ": the host buffer is a copy of b");
    expect(counter == replay, which + ": the host function ran once more (" + std::to_string(counter) + ")");
  }
  fill_host(f.host.data(), -1.0f);
  expect_status(cudaGraphLaunch(exec, nullptr), cudaSuccess, "cudaGraphLaunch on the legacy stream");
  expect(all_equal(f.host.data(), 3.0f) && counter == 4, "a launch on another stream runs the same work");

  // Outside a capture, everything runs at once again.
  expect_status(cudaMemsetAsync(f.a, 0, kBytes, f.stream), cudaSuccess, "cudaMemsetAsync after the capture");
  expect(all_equal(f.a, 0.0f), "cudaMemsetAsync after the capture ran at once");
  expect_status(cudaLaunchHostFunc(f.stream, count_call, &counter), cudaSuccess, "cudaLaunchHostFunc after");
  expect(counter == 5, "cudaLaunchHostFunc after the capture ran at once");
  expect_status(cudaGraphExecDestroy(exec), cudaSuccess, "cudaGraphExecDestroy");
  std::printf("  memset, 2 kernels, 2 async copies, a host function: captured, nothing run, replayed 3 + 1 times\n");
}

// Each synchronous call CUDA refuses during a capture: the call fails, the capture is invalidated,
// later work on the stream fails, and the capture ends without a graph.
void check_refused_calls() {
  Fixture f;
  std::vector<float> host(kCount, 1.0f);
  struct Refused {
    const char* name;
    cudaError_t (*call)(Fixture&, std::vector<float>&);
  };
  const Refused refused[] = {
      {"cudaMemcpy",
       [](Fixture& f, std::vector<float>& h) { return cudaMemcpy(f.a, h.data(), kBytes, cudaMemcpyHostToDevice); }},
      {"cudaMemset", [](Fixture& f, std::vector<float>&) { return cudaMemset(f.a, 0, kBytes); }},
      {"cudaMemcpyPeer", [](Fixture& f, std::vector<float>&) { return cudaMemcpyPeer(f.a, 0, f.b, 0, kBytes); }},
      {"cudaStreamSynchronize of the capturing stream",
       [](Fixture& f, std::vector<float>&) { return cudaStreamSynchronize(f.stream); }},
      {"cudaStreamSynchronize of the legacy stream",
       [](Fixture&, std::vector<float>&) { return cudaStreamSynchronize(nullptr); }},
      {"cudaDeviceSynchronize", [](Fixture&, std::vector<float>&) { return cudaDeviceSynchronize(); }},
  };
  for (const Refused& r : refused) {
    const std::string name = r.name;
    fill_host(f.a, 5.0f);
    expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaSuccess, name + ": begin");
    expect_status(cudaMemsetAsync(f.a, 0, kBytes, f.stream), cudaSuccess, name + ": a captured fill");
    expect_status(r.call(f, host), cudaErrorStreamCaptureUnsupported, name + " during a Relaxed capture");
    expect(all_equal(f.a, 5.0f), name + ": the refused call did nothing");
    expect_capture(f.stream, cudaStreamCaptureStatusInvalidated, name + ": after the refusal");
    expect_status(cudaMemsetAsync(f.a, 0, kBytes, f.stream), cudaErrorStreamCaptureInvalidated,
                  name + ": cudaMemsetAsync on the invalidated capture");
    cudaGetLastError();
    ::pix_emu::launch(add_one, kGrid, dim3(kBlock), 0, f.stream)(f.a, kCount);
    expect_status(cudaGetLastError(), cudaErrorStreamCaptureInvalidated, name + ": a launch on the invalidated capture");
    cudaGraph_t graph = reinterpret_cast<cudaGraph_t>(&host);  // must be overwritten
    expect_status(cudaStreamEndCapture(f.stream, &graph), cudaErrorStreamCaptureInvalidated, name + ": end");
    expect(graph == nullptr, name + ": no graph from an invalidated capture");
    expect_capture(f.stream, cudaStreamCaptureStatusNone, name + ": after the end");
    expect(all_equal(f.a, 5.0f), name + ": nothing of the invalidated capture ran");
    cudaGetLastError();
  }
  // Outside a capture the same calls succeed.
  expect_status(cudaMemcpy(f.a, host.data(), kBytes, cudaMemcpyHostToDevice), cudaSuccess, "cudaMemcpy after");
  expect_status(cudaMemset(f.a, 0, kBytes), cudaSuccess, "cudaMemset after");
  expect_status(cudaStreamSynchronize(f.stream), cudaSuccess, "cudaStreamSynchronize after");
  expect_status(cudaDeviceSynchronize(), cudaSuccess, "cudaDeviceSynchronize after");
  std::printf("  %zu refused calls: cudaErrorStreamCaptureUnsupported, capture invalidated, no graph\n",
              std::size(refused));
}

// A captured call that fails its own checks invalidates the capture.
void check_failed_captured_calls() {
  Fixture f;
  std::vector<float> host(kCount, 1.0f);
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaSuccess, "begin");
  ::pix_emu::launch(add_one, kGrid, dim3(2048), 0, f.stream)(f.a, kCount);
  expect_status(cudaGetLastError(), cudaErrorInvalidConfiguration, "a launch of 2048 threads a block during a capture");
  expect_capture(f.stream, cudaStreamCaptureStatusInvalidated, "after the bad launch");
  cudaGraph_t graph = nullptr;
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaErrorStreamCaptureInvalidated, "end after the bad launch");

  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaSuccess, "begin again");
  expect_status(cudaMemcpyAsync(f.a, host.data(), kBytes, cudaMemcpyDeviceToHost, f.stream), cudaErrorInvalidValue,
                "a captured copy of the wrong kind");
  expect_status(cudaLaunchHostFunc(f.stream, nullptr, nullptr), cudaErrorStreamCaptureInvalidated,
                "a host function after it");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaErrorStreamCaptureInvalidated, "end after the bad copy");
  expect(graph == nullptr, "no graph after the bad copy");
  cudaGetLastError();

  // The pointers are checked again at each replay: memory freed since the capture fails the launch.
  float* gone = nullptr;
  expect_status(cudaMalloc(reinterpret_cast<void**>(&gone), kBytes), cudaSuccess, "cudaMalloc");
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeGlobal), cudaSuccess, "begin (Global)");
  expect_status(cudaMemsetAsync(gone, 0, kBytes, f.stream), cudaSuccess, "captured fill");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaSuccess, "end");
  cudaGraphExec_t exec = nullptr;
  expect_status(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess, "instantiate");
  expect_status(cudaGraphInstantiate(&exec, graph, cudaGraphInstantiateFlagDeviceLaunch), cudaErrorInvalidValue,
                "instantiate for device launch (not emulated)");
  expect_status(cudaFree(gone), cudaSuccess, "cudaFree");
  expect_status(cudaGraphLaunch(exec, f.stream), cudaErrorInvalidValue, "a replay filling freed memory");
  expect_status(cudaGetLastError(), cudaErrorInvalidValue, "the failed replay's last error");
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  std::printf("  bad launch configuration, copy of the wrong kind, replay into freed memory\n");
}

// cudaMalloc and cudaFree: refused by a Global capture of any thread and a ThreadLocal one of the
// calling thread; allowed by a ThreadLocal capture of another thread (and by Relaxed, above).
void check_allocator() {
  Fixture f;
  void* p = reinterpret_cast<void*>(&f);
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeGlobal), cudaSuccess, "begin (Global)");
  expect_status(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported, "cudaMalloc during a Global capture");
  expect(p == nullptr, "the refused cudaMalloc returns no memory");
  expect_capture(f.stream, cudaStreamCaptureStatusInvalidated, "after the refused cudaMalloc");
  cudaGraph_t graph = nullptr;
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaErrorStreamCaptureInvalidated, "end");

  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeThreadLocal), cudaSuccess,
                "begin (ThreadLocal)");
  expect_status(cudaFree(f.b), cudaErrorStreamCaptureUnsupported, "cudaFree during a ThreadLocal capture");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaErrorStreamCaptureInvalidated, "end");
  expect_status(cudaMemset(f.b, 0, kBytes), cudaSuccess, "the refused cudaFree freed nothing");

  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeThreadLocal), cudaSuccess,
                "begin (ThreadLocal) again");
  cudaError_t from_other = cudaErrorUnknown;
  std::thread([&] {
    void* q = nullptr;
    from_other = cudaMalloc(&q, 64);
    cudaFree(q);
  }).join();
  expect_status(from_other, cudaSuccess, "cudaMalloc on another thread during a ThreadLocal capture");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaSuccess, "end of the undisturbed ThreadLocal capture");
  cudaGraphDestroy(graph);

  cudaStream_t global_stream = nullptr;
  cudaStreamCreateWithFlags(&global_stream, cudaStreamNonBlocking);
  std::thread([&] { from_other = cudaStreamBeginCapture(global_stream, cudaStreamCaptureModeGlobal); }).join();
  expect_status(from_other, cudaSuccess, "another thread begins a Global capture");
  expect_status(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported, "cudaMalloc during another thread's Global capture");
  expect_capture(global_stream, cudaStreamCaptureStatusInvalidated, "the other thread's Global capture");
  std::thread([&] { from_other = cudaStreamEndCapture(global_stream, &graph); }).join();
  expect_status(from_other, cudaErrorStreamCaptureInvalidated, "the other thread ends its capture");
  cudaStreamDestroy(global_stream);
  cudaGetLastError();
  std::printf("  Global refuses everywhere, ThreadLocal on its own thread only, Relaxed nowhere\n");
}

// Beginning twice, ending what never began, the legacy stream, ending from the wrong thread.
void check_capture_states() {
  Fixture f;
  cudaGraph_t graph = nullptr;
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaErrorIllegalState, "end without a capture");
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeGlobal), cudaSuccess, "begin");
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaErrorIllegalState, "begin twice");
  expect_capture(f.stream, cudaStreamCaptureStatusActive, "the first capture after the second begin");
  cudaError_t from_other = cudaSuccess;
  std::thread([&] { from_other = cudaStreamEndCapture(f.stream, &graph); }).join();
  expect_status(from_other, cudaErrorStreamCaptureWrongThread, "end of a Global capture from another thread");
  expect_capture(f.stream, cudaStreamCaptureStatusActive, "the capture after the wrong thread's end");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaSuccess, "end from the thread that began it");
  expect(graph != nullptr, "an empty capture gives a graph");
  cudaGraphDestroy(graph);
  expect_status(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeRelaxed), cudaErrorStreamCaptureUnsupported,
                "a capture of the legacy stream");
  expect_capture(nullptr, cudaStreamCaptureStatusNone, "the legacy stream");
  expect_status(cudaStreamIsCapturing(f.stream, nullptr), cudaErrorInvalidValue, "cudaStreamIsCapturing(null)");

  // A graph launched into a capture is recorded whole.
  int counter = 0;
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaSuccess, "begin the inner");
  expect_status(cudaLaunchHostFunc(f.stream, count_call, &counter), cudaSuccess, "the inner host function");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaSuccess, "end the inner");
  cudaGraphExec_t inner = nullptr, outer = nullptr;
  cudaGraphInstantiate(&inner, graph, 0);
  cudaGraphDestroy(graph);
  expect_status(cudaStreamBeginCapture(f.stream, cudaStreamCaptureModeRelaxed), cudaSuccess, "begin the outer");
  expect_status(cudaGraphLaunch(inner, f.stream), cudaSuccess, "launch the inner graph into the outer capture");
  expect_status(cudaGraphLaunch(inner, f.stream), cudaSuccess, "and again");
  expect(counter == 0, "a graph launched into a capture does not run");
  expect_status(cudaStreamEndCapture(f.stream, &graph), cudaSuccess, "end the outer");
  cudaGraphExecDestroy(inner);  // the outer graph keeps its own copy
  cudaGraphInstantiate(&outer, graph, 0);
  cudaGraphDestroy(graph);
  expect_status(cudaGraphLaunch(outer, f.stream), cudaSuccess, "launch the outer graph");
  expect(counter == 2, "the outer graph ran the inner twice (" + std::to_string(counter) + ")");
  cudaGraphExecDestroy(outer);
  std::printf("  begin twice, end without begin, wrong thread, legacy stream, a graph inside a graph\n");
}

}  // namespace

int main() {
  std::printf("CUDA emulator stream capture and graphs check\n");
  const struct {
    const char* name;
    void (*run)();
  } sections[] = {
      {"capture and replay", check_capture_and_replay},
      {"synchronous calls during a capture", check_refused_calls},
      {"failed calls during a capture", check_failed_captured_calls},
      {"the allocator during a capture", check_allocator},
      {"capture states", check_capture_states},
  };
  for (const auto& s : sections) {
    const int before = failures;
    std::printf("%s:\n", s.name);
    s.run();
    std::printf("  -> %s\n", failures == before ? "ok" : "FAILED");
  }
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
