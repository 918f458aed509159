// CUDA graphs: the work a piece of host code queues on a device's engine stream, captured once and
// replayed as one launch. A batch-1 inference forward is a few hundred tiny kernels whose launch
// costs exceed their run time; replayed, the device runs them back to back.
//
// What a replay repeats is exactly what was queued: the same kernels on the same addresses. So the
// captured code must read its inputs from, and leave its outputs in, tensors that outlive the graph
// (the caller copies in and out), must not wait for the device or read device memory on the host,
// and must make every host-side decision (cuDNN's algorithm, a cast weight) before the capture.
// Memory the captured code allocates comes from the graph's own pool (core/cuda/runtime.h) and stays
// the graph's until it is destroyed.
//
// Plain C++ (no CUDA headers), reached through PIX_CUDA_CALL.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace pix::cuda {

class Graph {
 public:
  // Runs body with `device`'s stream capturing; body's work is recorded, not run. Throws pix::Error
  // naming the cause when capture fails (body threw, or queued something a graph cannot hold); the
  // device is then out of capture mode again and its graph pool released.
  Graph(int device, const std::function<void()>& body);
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  void launch();  // queues one replay on the device's stream

 private:
  int device_;
  int pool_;
  void* graph_ = nullptr;  // cudaGraph_t
  void* exec_ = nullptr;   // cudaGraphExec_t
};

// Process-wide: whether models replay their CUDA evaluation forwards as graphs (nn/model.h). On
// unless PIX_CUDA_GRAPHS=0 was set when the process started, or set_graphs_enabled(false).
bool graphs_enabled();
void set_graphs_enabled(bool enabled);

// Counters, for tests and benchmark reports.
struct GraphStats {
  int64_t captures = 0;  // graphs made
  int64_t replays = 0;   // launches of them
  int64_t failures = 0;  // captures that failed (the forward then ran without a graph)
  std::string last_failure;
};
GraphStats graph_stats();
void count_graph_failure(const std::string& why);  // by a user that fell back to running without one

}  // namespace pix::cuda
