// Per-tensor CUDA kernels of the optimizers and the EMA (ops/cuda/optimizer_kernels.h): grid-
// stride loops with the CPU loops' formulas, and deterministic two-level sums for the norms.
#include "core/cuda/runtime.h"
#include "ops/cuda/launch.cuh"
#include "ops/cuda/optimizer_kernels.h"

namespace pix::cuda {
namespace {

// Blocks of the norm kernels: a fixed count for a given n, so partials (and sums) never vary.
int norm_blocks(int64_t n) { return std::min(grid_for(n), 1024); }

__global__ void square_partials(const float* __restrict__ x, int64_t n, double* __restrict__ partial) {
  double acc = 0;
  PIX_GRID_STRIDE(i, n) acc += static_cast<double>(x[i]) * x[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = total;
}

// out[0] = sum of partial[0..count), in a fixed order, by one block.
__global__ void sum_partials(const double* __restrict__ partial, int count, double* __restrict__ out) {
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) out[0] = total;
}

__global__ void scale_kernel(float* x, float factor, int64_t n) { PIX_GRID_STRIDE(i, n) x[i] *= factor; }

__global__ void sgd_kernel(SgdScalars s, const float* __restrict__ g, float* __restrict__ w, float* __restrict__ buf,
                           int64_t n) {
  PIX_GRID_STRIDE(j, n) {
    const float d = g[j] + s.wd * w[j];
    if (buf == nullptr) {
      w[j] += s.neg_lr * d;
      continue;
    }
    const float b = buf[j] * s.mu + d;
    buf[j] = b;
    w[j] += s.neg_lr * (s.kd * d + s.kb * b);
  }
}

__global__ void adamw_kernel(AdamScalars s, const float* __restrict__ g, float* __restrict__ w, float* __restrict__ m,
                             float* __restrict__ v, int64_t n) {
  PIX_GRID_STRIDE(j, n) {
    const float mj = m[j] * s.b1 + s.c1 * g[j];
    const float vj = v[j] * s.b2 + s.c2 * g[j] * g[j];
    m[j] = mj;
    v[j] = vj;
    w[j] = w[j] * s.decay + s.neg_step * (mj / (sqrtf(vj) / s.bc2_sqrt + s.eps));
  }
}

__device__ __forceinline__ float lamb_direction(const LambScalars& s, float m, float v, float w) {
  return (m / s.bc1) / (sqrtf(v) / s.bc2_sqrt + s.eps) + s.wd * w;
}

// Moments, and per-block partial sums of w*w and u*u (partial[2*block], partial[2*block + 1]).
__global__ void lamb_moments(LambScalars s, const float* __restrict__ g, const float* __restrict__ w,
                             float* __restrict__ m, float* __restrict__ v, int64_t n, double* __restrict__ partial) {
  double ww = 0, uu = 0;
  PIX_GRID_STRIDE(j, n) {
    const float gj = g[j] / s.clip;
    const float mj = m[j] * s.b1 + s.c1 * gj;
    const float vj = v[j] * s.b2 + s.c2 * gj * gj;
    m[j] = mj;
    v[j] = vj;
    const float u = lamb_direction(s, mj, vj, w[j]);
    ww += static_cast<double>(w[j]) * w[j];
    uu += static_cast<double>(u) * u;
  }
  ww = block_sum(ww);
  uu = block_sum(uu);
  if (threadIdx.x == 0) partial[2 * blockIdx.x] = ww, partial[2 * blockIdx.x + 1] = uu;
}

// ratio[0] = |w| / |u| where weight decay applies and both norms are positive, else 1.
__global__ void lamb_ratio(const double* __restrict__ partial, int blocks, float wd, float* __restrict__ ratio) {
  double ww = 0, uu = 0;
  for (int i = threadIdx.x; i < blocks; i += blockDim.x) ww += partial[2 * i], uu += partial[2 * i + 1];
  ww = block_sum(ww);
  uu = block_sum(uu);
  if (threadIdx.x == 0) ratio[0] = wd != 0.f && ww > 0 && uu > 0 ? static_cast<float>(sqrt(ww) / sqrt(uu)) : 1.f;
}

__global__ void lamb_step(LambScalars s, const float* __restrict__ ratio, const float* __restrict__ m,
                          const float* __restrict__ v, float* __restrict__ w, int64_t n) {
  const float r = ratio[0];
  PIX_GRID_STRIDE(j, n) w[j] += s.neg_lr * (lamb_direction(s, m[j], v[j], w[j]) * r);
}

__global__ void ema_kernel(float* __restrict__ e, const float* __restrict__ w, float d, float c, int64_t n) {
  PIX_GRID_STRIDE(j, n) e[j] = e[j] * d + c * w[j];
}

// Device scratch for the reductions: `count` doubles from the caching allocator, released (to the
// cache, in stream order) when the call returns.
struct Scratch {
  Scratch(int device, size_t count) : device_(device), ptr_(cache_alloc(device, count * sizeof(double))) {}
  ~Scratch() { cache_free(device_, ptr_); }
  double* get() const { return static_cast<double*>(ptr_); }
  int device_;
  void* ptr_;
};

}  // namespace

void sum_squares_into(int device, const float* x, int64_t n, double* out) {
  set_device(device);
  cudaStream_t st = stream(device);
  const int blocks = norm_blocks(n);  // at least 1: n == 0 writes a 0
  Scratch scratch(device, blocks);
  square_partials<<<blocks, kThreads, 0, st>>>(x, n, scratch.get());
  PIX_CUDA_CHECK_LAUNCH("optimizer (sum of squares)");
  sum_partials<<<1, kThreads, 0, st>>>(scratch.get(), blocks, out);
  PIX_CUDA_CHECK_LAUNCH("optimizer (sum of squares, total)");
}

void scale_in_place(int device, float* x, float factor, int64_t n) {
  set_device(device);
  scale_kernel<<<grid_for(n), kThreads, 0, stream(device)>>>(x, factor, n);
  PIX_CUDA_CHECK_LAUNCH("optimizer (gradient clipping)");
}

void sgd_update(int device, const SgdScalars& s, const float* g, float* w, float* buf, int64_t n) {
  set_device(device);
  sgd_kernel<<<grid_for(n), kThreads, 0, stream(device)>>>(s, g, w, buf, n);
  PIX_CUDA_CHECK_LAUNCH("sgd");
}

void adamw_update(int device, const AdamScalars& s, const float* g, float* w, float* m, float* v, int64_t n) {
  set_device(device);
  adamw_kernel<<<grid_for(n), kThreads, 0, stream(device)>>>(s, g, w, m, v, n);
  PIX_CUDA_CHECK_LAUNCH("adamw");
}

void lamb_update(int device, const LambScalars& s, const float* g, float* w, float* m, float* v, int64_t n) {
  if (n == 0) return;
  set_device(device);
  cudaStream_t st = stream(device);
  const int blocks = norm_blocks(n);
  Scratch scratch(device, 2 * blocks + 1);  // partial pairs, then the ratio (a float in a double slot)
  float* ratio = reinterpret_cast<float*>(scratch.get() + 2 * blocks);
  lamb_moments<<<blocks, kThreads, 0, st>>>(s, g, w, m, v, n, scratch.get());
  PIX_CUDA_CHECK_LAUNCH("lamb (moments)");
  lamb_ratio<<<1, kThreads, 0, st>>>(scratch.get(), blocks, s.wd, ratio);
  PIX_CUDA_CHECK_LAUNCH("lamb (trust ratio)");
  lamb_step<<<grid_for(n), kThreads, 0, st>>>(s, ratio, m, v, w, n);
  PIX_CUDA_CHECK_LAUNCH("lamb (step)");
}

void ema_update(int device, float* e, const float* w, float d, float c, int64_t n) {
  set_device(device);
  ema_kernel<<<grid_for(n), kThreads, 0, stream(device)>>>(e, w, d, c, n);
  PIX_CUDA_CHECK_LAUNCH("ema");
}

}  // namespace pix::cuda
