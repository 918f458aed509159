// Per-image channel means of NHWC rows (N, HW, C) -> (N, C) f32, in two deterministic passes: a
// block sums one chunk of one image's rows for its columns of channels (V per thread, row lanes
// added in order by sum_row_lanes), writing partial[(n * chunks + chunk) * C + ch]; then one thread
// per (image, channel) adds the chunks in order and divides. Sums are double, like the CPU's.
// Shared by the global average pool and by add_relu, which takes the mean of the rows it writes so
// that a PiX gate (or the head) reads it without a pass of its own.
#pragma once

#include "ops/cuda/launch.cuh"

namespace pix::cuda {

constexpr int64_t kMeanRowsPerChunk = 64;  // 49 chunks per 56x56 image: thousands of blocks at batch 128
constexpr int kMeanChannelLanes = 32;      // channel vectors a block reads side by side

struct MeanLaunch {
  dim3 grid, block;  // grid: (channel tiles, chunks, images)
  int64_t chunks;
};

inline MeanLaunch mean_launch(int64_t n, int64_t hw, int64_t c, int v) {
  const int64_t vectors = c / v;
  const int lanes = static_cast<int>(std::min<int64_t>(kMeanChannelLanes, vectors));
  MeanLaunch l;
  l.chunks = (hw + kMeanRowsPerChunk - 1) / kMeanRowsPerChunk;
  l.block = dim3(lanes, kThreads / lanes);
  l.grid = dim3(static_cast<unsigned>((vectors + lanes - 1) / lanes), static_cast<unsigned>(l.chunks),
                static_cast<unsigned>(n));
  return l;
}

// The rows [first, last) of image blockIdx.z this thread visits, and its first channel (V of them),
// for a kernel launched with mean_launch(...).
struct MeanRows {
  int64_t ch0, first, last, step;
};
__device__ __forceinline__ MeanRows mean_rows(int64_t hw, int64_t c, int v) {
  const int64_t chunk_start = blockIdx.y * kMeanRowsPerChunk;
  const int64_t image_start = static_cast<int64_t>(blockIdx.z) * hw;
  MeanRows r;
  r.ch0 = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) * v;
  r.first = image_start + chunk_start + threadIdx.y;
  r.last = image_start + min(hw, chunk_start + kMeanRowsPerChunk);
  r.step = blockDim.y;
  return r;
}

// Ends a row kernel: the block's per-channel sums into partial.
template <int V>
__device__ __forceinline__ void store_chunk_sums(double (&acc)[V], const MeanRows& r, int64_t c, int64_t chunks,
                                                 double* __restrict__ partial) {
  sum_row_lanes(acc);
  if (threadIdx.y != 0 || r.ch0 >= c) return;
  double* out = partial + (static_cast<int64_t>(blockIdx.z) * chunks + blockIdx.y) * c + r.ch0;
#pragma unroll
  for (int j = 0; j < V; ++j) out[j] = acc[j];
}

// The second pass: mean (N, C) from the partial sums of chunks, queued on `st` (global_avg_pool.cu).
void finish_channel_means(const double* partial, int64_t chunks, int64_t n, int64_t c, int64_t hw, float* mean,
                          cudaStream_t st);

}  // namespace pix::cuda
