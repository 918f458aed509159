// Multi-tensor CUDA kernels of the optimizers and the EMA (ops/cuda/optimizer_kernels.h). A launch
// carries up to kTensorsPerLaunch tensors in its parameters (no table to copy to the device first);
// each tensor gets its own run of blocks, a fixed count for its size, and a grid-stride loop over it
// alone, so a tensor's norm partials do not depend on which tensors share its launch.
#include "core/cuda/runtime.h"
#include "ops/cuda/launch.cuh"
#include "ops/cuda/optimizer_kernels.h"

namespace pix::cuda {
namespace {

// Kernel parameters are limited to 4 KiB; a Batch of 24 tensors takes about 1.3 KiB.
constexpr int kTensorsPerLaunch = 24;
// Blocks per tensor of the elementwise kernels: enough to fill the device for a large tensor,
// the grid-stride loop covers the rest.
constexpr int kElementwiseBlocksPerTensor = 1024;

struct Batch {
  float* x[kTensorsPerLaunch];
  const float* y[kTensorsPerLaunch];
  float* a[kTensorsPerLaunch];
  float* b[kTensorsPerLaunch];
  int64_t n[kTensorsPerLaunch];
  float per_tensor[kTensorsPerLaunch];
  int first_block[kTensorsPerLaunch + 1];  // tensor t's blocks: [first_block[t], first_block[t + 1])
  int first_partial[kTensorsPerLaunch];    // norm kernels: where tensor t's block partials start
  int first_tensor;                        // the batch's first tensor in the whole list
};

// Blocks of the norm kernels: a fixed count for a given n, so partials (and sums) never vary.
int norm_blocks(int64_t n) { return std::min(grid_for(n), 1024); }
int elementwise_blocks(int64_t n) { return std::min(grid_for(n), kElementwiseBlocksPerTensor); }

// This block's tensor, its block index within the tensor, and the tensor's block count.
struct Place {
  int t;
  int64_t block;
  int64_t blocks;
};

__device__ __forceinline__ Place place(const Batch& batch) {
  int t = 0;
  while (static_cast<int>(blockIdx.x) >= batch.first_block[t + 1]) ++t;
  return {t, blockIdx.x - batch.first_block[t], batch.first_block[t + 1] - batch.first_block[t]};
}

// for (j in [0, n)) over the tensor's own blocks, as PIX_GRID_STRIDE over a grid of `blocks`.
#define PIX_TENSOR_STRIDE(j, p, n) \
  for (int64_t j = (p).block * blockDim.x + threadIdx.x; j < (n); j += (p).blocks * blockDim.x)

// Splits `tensors` into batches; blocks(n) gives a tensor's block count, partials(n) its norm
// partial count (0 for elementwise kernels); launch(batch, total blocks, batch size) queues one kernel.
template <typename Blocks, typename Launch>
void in_batches(const std::vector<TensorSlots>& tensors, Blocks blocks, Launch launch) {
  int partial = 0;
  for (size_t first = 0; first < tensors.size(); first += kTensorsPerLaunch) {
    const int count = static_cast<int>(std::min<size_t>(kTensorsPerLaunch, tensors.size() - first));
    Batch batch{};
    batch.first_tensor = static_cast<int>(first);
    int total = 0;
    for (int t = 0; t < count; ++t) {
      const TensorSlots& s = tensors[first + t];
      batch.x[t] = s.x, batch.y[t] = s.y, batch.a[t] = s.a, batch.b[t] = s.b;
      batch.n[t] = s.n, batch.per_tensor[t] = s.per_tensor;
      batch.first_block[t] = total;
      batch.first_partial[t] = partial;
      total += blocks(s.n);
      partial += norm_blocks(s.n);
    }
    batch.first_block[count] = total;
    launch(batch, total, count);
  }
}

int total_partials(const std::vector<TensorSlots>& tensors) {
  int total = 0;
  for (const TensorSlots& s : tensors) total += norm_blocks(s.n);
  return total;
}

// ---- the gradient norm and clipping -----------------------------------------------------------

__global__ void square_partials(const Batch batch, double* __restrict__ partial) {
  const Place p = place(batch);
  const float* x = batch.x[p.t];
  double acc = 0;
  PIX_TENSOR_STRIDE(i, p, batch.n[p.t]) acc += static_cast<double>(x[i]) * x[i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) partial[batch.first_partial[p.t] + p.block] = total;
}

// One block per tensor: its partials summed in a fixed order.
__global__ void tensor_sums(const Batch batch, const double* __restrict__ partial, double* __restrict__ sums) {
  const int t = blockIdx.x;
  const int count = batch.first_block[t + 1] - batch.first_block[t];
  double acc = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[batch.first_partial[t] + i];
  const double total = block_sum(acc);
  if (threadIdx.x == 0) sums[batch.first_tensor + t] = total;
}

// The tensors' sums added in order, then clip_grad_norm_'s and LAMB's arithmetic, all in double
// as the host did it.
__global__ void finish_norm(const double* __restrict__ sums, int count, double clip_grad, double max_grad_norm,
                            GradNormState* __restrict__ state) {
  double total = 0;
  for (int i = 0; i < count; ++i) total += sums[i];
  const double norm = sqrt(total);
  double current = norm;
  float scale = 1.f;
  if (clip_grad > 0) {
    const double coef = clip_grad / (norm + 1e-6);
    if (coef < 1) {
      scale = static_cast<float>(coef);
      current = norm * coef;
    }
  }
  state->norm = norm;
  state->current = current;
  state->grad_scale = scale;
  state->lamb_clip = static_cast<float>(current > max_grad_norm ? current / max_grad_norm : 1.0);
}

__global__ void scale_kernel(const Batch batch, const GradNormState* __restrict__ state) {
  const float factor = state->grad_scale;
  if (factor == 1.f) return;
  const Place p = place(batch);
  float* x = batch.x[p.t];
  PIX_TENSOR_STRIDE(i, p, batch.n[p.t]) x[i] *= factor;
}

// ---- the updates ------------------------------------------------------------------------------

__global__ void sgd_kernel(const Batch batch, SgdScalars s) {
  const Place p = place(batch);
  float* w = batch.x[p.t];
  const float* g = batch.y[p.t];
  float* buf = batch.a[p.t];
  const float wd = batch.per_tensor[p.t];
  PIX_TENSOR_STRIDE(j, p, batch.n[p.t]) {
    const float d = g[j] + wd * w[j];
    if (buf == nullptr) {
      w[j] += s.neg_lr * d;
      continue;
    }
    const float b = buf[j] * s.mu + d;
    buf[j] = b;
    w[j] += s.neg_lr * (s.kd * d + s.kb * b);
  }
}

__global__ void adamw_kernel(const Batch batch, AdamScalars s) {
  const Place p = place(batch);
  float* w = batch.x[p.t];
  const float* g = batch.y[p.t];
  float* m = batch.a[p.t];
  float* v = batch.b[p.t];
  const float decay = batch.per_tensor[p.t];
  PIX_TENSOR_STRIDE(j, p, batch.n[p.t]) {
    const float mj = m[j] * s.b1 + s.c1 * g[j];
    const float vj = v[j] * s.b2 + s.c2 * g[j] * g[j];
    m[j] = mj;
    v[j] = vj;
    w[j] = w[j] * decay + s.neg_step * (mj / (sqrtf(vj) / s.bc2_sqrt + s.eps));
  }
}

__device__ __forceinline__ float lamb_direction(const LambScalars& s, float wd, float m, float v, float w) {
  return (m / s.bc1) / (sqrtf(v) / s.bc2_sqrt + s.eps) + wd * w;
}

// Moments, and per-block partial sums of w*w and u*u (partial[2*k], partial[2*k + 1]).
__global__ void lamb_moments(const Batch batch, LambScalars s, const GradNormState* __restrict__ state,
                             double* __restrict__ partial) {
  const Place p = place(batch);
  const float clip = state->lamb_clip;
  float* w = batch.x[p.t];
  const float* g = batch.y[p.t];
  float* m = batch.a[p.t];
  float* v = batch.b[p.t];
  const float wd = batch.per_tensor[p.t];
  double ww = 0, uu = 0;
  PIX_TENSOR_STRIDE(j, p, batch.n[p.t]) {
    const float gj = g[j] / clip;
    const float mj = m[j] * s.b1 + s.c1 * gj;
    const float vj = v[j] * s.b2 + s.c2 * gj * gj;
    m[j] = mj;
    v[j] = vj;
    const float u = lamb_direction(s, wd, mj, vj, w[j]);
    ww += static_cast<double>(w[j]) * w[j];
    uu += static_cast<double>(u) * u;
  }
  ww = block_sum(ww);
  uu = block_sum(uu);
  const int k = batch.first_partial[p.t] + static_cast<int>(p.block);
  if (threadIdx.x == 0) partial[2 * k] = ww, partial[2 * k + 1] = uu;
}

// One block per tensor: ratio = |w| / |u| where weight decay applies and both norms are positive, else 1.
__global__ void lamb_ratios(const Batch batch, const double* __restrict__ partial, float* __restrict__ ratios) {
  const int t = blockIdx.x;
  const int count = batch.first_block[t + 1] - batch.first_block[t];
  double ww = 0, uu = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    const int k = batch.first_partial[t] + i;
    ww += partial[2 * k], uu += partial[2 * k + 1];
  }
  ww = block_sum(ww);
  uu = block_sum(uu);
  if (threadIdx.x == 0) {
    const bool adapt = batch.per_tensor[t] != 0.f && ww > 0 && uu > 0;
    ratios[batch.first_tensor + t] = adapt ? static_cast<float>(sqrt(ww) / sqrt(uu)) : 1.f;
  }
}

__global__ void lamb_step(const Batch batch, LambScalars s, const float* __restrict__ ratios) {
  const Place p = place(batch);
  const float r = ratios[batch.first_tensor + p.t];
  float* w = batch.x[p.t];
  const float* m = batch.a[p.t];
  const float* v = batch.b[p.t];
  const float wd = batch.per_tensor[p.t];
  PIX_TENSOR_STRIDE(j, p, batch.n[p.t]) w[j] += s.neg_lr * (lamb_direction(s, wd, m[j], v[j], w[j]) * r);
}

__global__ void ema_kernel(const Batch batch, float d, float c) {
  const Place p = place(batch);
  float* e = batch.x[p.t];
  const float* w = batch.y[p.t];
  PIX_TENSOR_STRIDE(j, p, batch.n[p.t]) e[j] = e[j] * d + c * w[j];
}

__global__ void zero_kernel(const Batch batch) {
  const Place p = place(batch);
  float* x = batch.x[p.t];
  PIX_TENSOR_STRIDE(j, p, batch.n[p.t]) x[j] = 0.f;
}

// Device scratch for the reductions: `count` doubles from the caching allocator, released (to the
// cache, in stream order) when the call returns.
struct Scratch {
  Scratch(int device, size_t count) : device_(device), ptr_(cache_alloc(device, std::max<size_t>(1, count) * sizeof(double))) {}
  ~Scratch() { cache_free(device_, ptr_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  double* get() const { return static_cast<double*>(ptr_); }
  int device_;
  void* ptr_;
};

}  // namespace

void grad_norm(int device, const std::vector<TensorSlots>& grads, double clip_grad, double max_grad_norm,
               GradNormState* state) {
  set_device(device);
  cudaStream_t st = stream(device);
  const int partials = total_partials(grads);
  Scratch scratch(device, partials + grads.size());
  double* partial = scratch.get();
  double* sums = partial + partials;
  in_batches(grads, norm_blocks, [&](const Batch& batch, int blocks, int count) {
    square_partials<<<blocks, kThreads, 0, st>>>(batch, partial);
    PIX_CUDA_CHECK_LAUNCH("optimizer (sums of squares)");
    tensor_sums<<<count, kThreads, 0, st>>>(batch, partial, sums);
    PIX_CUDA_CHECK_LAUNCH("optimizer (sum of each tensor)");
  });
  finish_norm<<<1, 1, 0, st>>>(sums, static_cast<int>(grads.size()), clip_grad, max_grad_norm, state);
  PIX_CUDA_CHECK_LAUNCH("optimizer (gradient norm)");
}

void scale_gradients(int device, const std::vector<TensorSlots>& grads, const GradNormState* state) {
  set_device(device);
  cudaStream_t st = stream(device);
  in_batches(grads, elementwise_blocks, [&](const Batch& batch, int blocks, int) {
    scale_kernel<<<blocks, kThreads, 0, st>>>(batch, state);
    PIX_CUDA_CHECK_LAUNCH("optimizer (gradient clipping)");
  });
}

void sgd_update(int device, const SgdScalars& s, const std::vector<TensorSlots>& params) {
  set_device(device);
  cudaStream_t st = stream(device);
  in_batches(params, elementwise_blocks, [&](const Batch& batch, int blocks, int) {
    sgd_kernel<<<blocks, kThreads, 0, st>>>(batch, s);
    PIX_CUDA_CHECK_LAUNCH("sgd");
  });
}

void adamw_update(int device, const AdamScalars& s, const std::vector<TensorSlots>& params) {
  set_device(device);
  cudaStream_t st = stream(device);
  in_batches(params, elementwise_blocks, [&](const Batch& batch, int blocks, int) {
    adamw_kernel<<<blocks, kThreads, 0, st>>>(batch, s);
    PIX_CUDA_CHECK_LAUNCH("adamw");
  });
}

void lamb_update(int device, const LambScalars& s, const std::vector<TensorSlots>& params, const GradNormState* state) {
  set_device(device);
  cudaStream_t st = stream(device);
  const int partials = total_partials(params);
  // The partial pairs, then one ratio per tensor (floats, two to a double slot).
  Scratch scratch(device, 2 * static_cast<size_t>(partials) + (params.size() + 1) / 2);
  double* partial = scratch.get();
  float* ratios = reinterpret_cast<float*>(partial + 2 * partials);
  // All moments and ratios first, in batches of the norm kernels' blocks, then all steps.
  in_batches(params, norm_blocks, [&](const Batch& batch, int blocks, int count) {
    lamb_moments<<<blocks, kThreads, 0, st>>>(batch, s, state, partial);
    PIX_CUDA_CHECK_LAUNCH("lamb (moments)");
    lamb_ratios<<<count, kThreads, 0, st>>>(batch, partial, ratios);
    PIX_CUDA_CHECK_LAUNCH("lamb (trust ratios)");
  });
  in_batches(params, elementwise_blocks, [&](const Batch& batch, int blocks, int) {
    lamb_step<<<blocks, kThreads, 0, st>>>(batch, s, ratios);
    PIX_CUDA_CHECK_LAUNCH("lamb (step)");
  });
}

void ema_update(int device, float d, float c, const std::vector<TensorSlots>& tensors) {
  set_device(device);
  cudaStream_t st = stream(device);
  in_batches(tensors, elementwise_blocks, [&](const Batch& batch, int blocks, int) {
    ema_kernel<<<blocks, kThreads, 0, st>>>(batch, d, c);
    PIX_CUDA_CHECK_LAUNCH("ema");
  });
}

void zero_tensors(int device, const std::vector<TensorSlots>& tensors) {
  set_device(device);
  cudaStream_t st = stream(device);
  in_batches(tensors, elementwise_blocks, [&](const Batch& batch, int blocks, int) {
    zero_kernel<<<blocks, kThreads, 0, st>>>(batch);
    PIX_CUDA_CHECK_LAUNCH("zero_grad");
  });
}

}  // namespace pix::cuda
