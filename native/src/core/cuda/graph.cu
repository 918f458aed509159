#include "core/cuda/graph.h"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "core/cuda/check.h"
#include "core/cuda/runtime.h"

namespace pix::cuda {
namespace {

std::atomic<bool>& enabled_flag() {
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("PIX_CUDA_GRAPHS");
    return env == nullptr || std::string(env) != "0";
  }()};
  return flag;
}

std::mutex stats_mutex;
GraphStats stats;

// Ends a capture that failed, whatever state it is in, leaving no sticky error behind.
void abandon_capture(cudaStream_t st) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(st, &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
    cudaGraph_t partial = nullptr;
    cudaStreamEndCapture(st, &partial);
    if (partial) cudaGraphDestroy(partial);
  }
  cudaGetLastError();
}

void count_graph_replay() {
  std::lock_guard<std::mutex> lock(stats_mutex);
  ++stats.replays;
}

}  // namespace

Graph::Graph(int device, const std::function<void()>& body) : device_(device) {
  set_device(device);
  cudaStream_t st = stream(device);
  pool_ = begin_graph_pool(device);
  std::string failure;
  try {
    // Relaxed: the caching allocator may call cudaMalloc for a new block of the graph's pool.
    PIX_CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeRelaxed));
    body();
    cudaGraph_t graph = nullptr;
    PIX_CUDA_CHECK(cudaStreamEndCapture(st, &graph));
    graph_ = graph;
    cudaGraphExec_t exec = nullptr;
    PIX_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    exec_ = exec;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  end_graph_pool(device);
  if (!failure.empty()) {
    abandon_capture(st);
    if (graph_) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
    release_graph_pool(device, pool_);
    throw Error(concat("capturing a CUDA graph on cuda:", device, " failed: ", failure));
  }
  std::lock_guard<std::mutex> lock(stats_mutex);
  ++stats.captures;
}

Graph::~Graph() {
  set_device(device_);
  if (exec_) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
  if (graph_) cudaGraphDestroy(static_cast<cudaGraph_t>(graph_));
  release_graph_pool(device_, pool_);  // waits for a replay still running (cudaFree synchronises)
}

void Graph::launch() {
  set_device(device_);
  PIX_CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), stream(device_)));
  count_graph_replay();
}

bool graphs_enabled() { return enabled_flag().load(); }

void set_graphs_enabled(bool enabled) { enabled_flag().store(enabled); }

GraphStats graph_stats() {
  std::lock_guard<std::mutex> lock(stats_mutex);
  return stats;
}

void count_graph_failure(const std::string& why) {
  std::lock_guard<std::mutex> lock(stats_mutex);
  ++stats.failures;
  stats.last_failure = why;
}

}  // namespace pix::cuda
