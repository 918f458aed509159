// The losses of ops/losses.h on CUDA. The cross-entropies give each row of logits (N,K) one block
// (K classes strided over its threads): a max, then sums in double, then dlogits; BCE is
// elementwise over N*K with a double partial per block. Row losses and partials are then summed by
// one block in a fixed order and the total copied back, so a loss is the same on every run.
// Not here: a fused kernel for large K or batches (a training step computes one (N,K) loss).
#include <cmath>

#include "ops/cuda/launch.cuh"
#include "ops/losses.h"

namespace pix::cuda {
namespace {

// Largest of one value per thread over a block of kThreads threads, for every thread.
__device__ float block_max(float value) {
  __shared__ float partial[kThreads];
  partial[threadIdx.x] = value;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) partial[threadIdx.x] = fmaxf(partial[threadIdx.x], partial[threadIdx.x + width]);
    __syncthreads();
  }
  const float max = partial[0];
  __syncthreads();
  return max;
}

// Broadcasts the block_sum of one value per thread to every thread of the block.
__device__ double block_total(double value) {
  __shared__ double total;
  value = block_sum(value);
  if (threadIdx.x == 0) total = value;
  __syncthreads();
  const double out = total;
  __syncthreads();  // `total` may be written again by a following call
  return out;
}

// log(sum_k exp(z[k])) of one row, shifted by its maximum as on the CPU; every thread gets it.
__device__ double row_log_sum_exp(const float* z, int64_t k) {
  float max = -INFINITY;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) max = fmaxf(max, z[j]);
  max = block_max(max);
  double sum = 0;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) sum += exp(static_cast<double>(z[j]) - max);
  return log(block_total(sum)) + max;
}

// One block per row: loss[row] = sum_k t * (lse - z); d = (softmax(z) * sum_k t - t) / N.
__global__ void soft_target_rows_kernel(const float* __restrict__ z, const float* __restrict__ t,
                                        float* __restrict__ d, double* __restrict__ row_loss, int64_t n, int64_t k) {
  const int64_t row = blockIdx.x;
  const float* zr = z + row * k;
  const float* tr = t + row * k;
  const double lse = row_log_sum_exp(zr, k);
  double loss = 0, t_sum = 0;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
    loss += tr[j] * (lse - zr[j]);
    t_sum += tr[j];
  }
  loss = block_sum(loss);
  if (threadIdx.x == 0) row_loss[row] = loss;
  if (d == nullptr) return;
  t_sum = block_total(t_sum);
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x)
    d[row * k + j] = static_cast<float>((exp(zr[j] - lse) * t_sum - tr[j]) / static_cast<double>(n));
}

// One block per row: loss[row] = (1 - s) * (lse - z[y]) + s * (lse - mean_k z);
// d = (softmax(z) - s/K - (1 - s) [k == y]) / N.
__global__ void label_smoothing_rows_kernel(const float* __restrict__ z, const int64_t* __restrict__ labels,
                                            double smoothing, float* __restrict__ d, double* __restrict__ row_loss,
                                            int64_t n, int64_t k) {
  const int64_t row = blockIdx.x;
  const float* zr = z + row * k;
  const int64_t y = labels[row];
  const double lse = row_log_sum_exp(zr, k);
  double z_sum = 0;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x) z_sum += zr[j];
  z_sum = block_sum(z_sum);
  const double confidence = 1 - smoothing, off = smoothing / static_cast<double>(k);
  if (threadIdx.x == 0)
    row_loss[row] = confidence * (lse - zr[y]) + smoothing * (lse - z_sum / static_cast<double>(k));
  if (d == nullptr) return;
  for (int64_t j = threadIdx.x; j < k; j += blockDim.x)
    d[row * k + j] = static_cast<float>((exp(zr[j] - lse) - off - (j == y ? confidence : 0.0)) / static_cast<double>(n));
}

__device__ double stable_sigmoid(double z) {
  if (z >= 0) return 1 / (1 + exp(-z));
  const double e = exp(z);
  return e / (1 + e);
}

// Elementwise over N*K: partial[block] = sum of max(z,0) - z*t + log1p(exp(-|z|)) over the block's
// elements; d = (sigmoid(z) - t) / (N*K). binarize: t becomes t > threshold (compared in f32).
__global__ void bce_kernel(const float* __restrict__ z, const float* __restrict__ t, bool binarize, float threshold,
                           float* __restrict__ d, double* __restrict__ partial, int64_t count) {
  double sum = 0;
  PIX_GRID_STRIDE(i, count) {
    const double zi = z[i];
    const double target = binarize ? (t[i] > threshold ? 1.0 : 0.0) : t[i];
    sum += fmax(zi, 0.0) - zi * target + log1p(exp(-fabs(zi)));
    if (d != nullptr) d[i] = static_cast<float>((stable_sigmoid(zi) - target) / static_cast<double>(count));
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) partial[blockIdx.x] = sum;
}

// out[0] = sum of values[0, count), one block, each thread's share in index order, then a tree.
__global__ void sum_kernel(const double* __restrict__ values, int64_t count, double* __restrict__ out) {
  double sum = 0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) sum += values[i];
  sum = block_sum(sum);
  if (threadIdx.x == 0) out[0] = sum;
}

// The sum of `count` doubles on the device, back on the host.
double device_sum(int device, const Tensor& values, int64_t count) {
  Tensor total = Tensor::empty({1}, DType::F64, values.device());
  sum_kernel<<<1, kThreads, 0, stream(device)>>>(values.data<double>(), count, total.data<double>());
  PIX_CUDA_CHECK_LAUNCH("loss sum");
  return total.to(Device::cpu()).data<double>()[0];
}

float* optional_data(Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

// Blocks per row kernel: one per row, and the grid's x dimension takes up to 2^31 - 1.
unsigned row_blocks(int64_t n) {
  PIX_CHECK(n <= 2147483647, "losses on CUDA take at most 2^31 - 1 rows, got ", n);
  return static_cast<unsigned>(n);
}

// t[n, k] = on where k == labels[n], else off.
__global__ void smooth_one_hot_kernel(const int64_t* __restrict__ labels, float on, float off, float* __restrict__ t,
                                      int64_t n, int64_t k) {
  PIX_GRID_STRIDE(i, n * k) t[i] = labels[i / k] == i % k ? on : off;
}

}  // namespace

Tensor smooth_one_hot(const Tensor& labels, int64_t num_classes, double smoothing) {
  const int device = labels.device().index;
  set_device(device);
  const int64_t n = labels.size(0);
  // As the CPU: off = s/K and on = 1 - s + off in double, then stored as f32.
  const double off = smoothing / static_cast<double>(num_classes);
  Tensor targets = Tensor::empty({n, num_classes}, DType::F32, labels.device());
  smooth_one_hot_kernel<<<grid_for(n * num_classes), kThreads, 0, stream(device)>>>(
      labels.data<int64_t>(), static_cast<float>(1.0 - smoothing + off), static_cast<float>(off),
      targets.data<float>(), n, num_classes);
  PIX_CUDA_CHECK_LAUNCH("smooth_one_hot");
  return targets;
}

double soft_target_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits) {
  const int device = logits.device().index;
  set_device(device);
  const int64_t n = logits.size(0), k = logits.size(1);
  Tensor row_loss = Tensor::empty({n}, DType::F64, logits.device());
  soft_target_rows_kernel<<<row_blocks(n), kThreads, 0, stream(device)>>>(
      logits.data<float>(), targets.data<float>(), optional_data(dlogits), row_loss.data<double>(), n, k);
  PIX_CUDA_CHECK_LAUNCH("soft_target_cross_entropy");
  return device_sum(device, row_loss, n) / static_cast<double>(n);
}

double label_smoothing_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& dlogits) {
  const int device = logits.device().index;
  set_device(device);
  const int64_t n = logits.size(0), k = logits.size(1);
  Tensor row_loss = Tensor::empty({n}, DType::F64, logits.device());
  label_smoothing_rows_kernel<<<row_blocks(n), kThreads, 0, stream(device)>>>(
      logits.data<float>(), labels.data<int64_t>(), smoothing, optional_data(dlogits), row_loss.data<double>(), n, k);
  PIX_CUDA_CHECK_LAUNCH("label_smoothing_cross_entropy");
  return device_sum(device, row_loss, n) / static_cast<double>(n);
}

double binary_cross_entropy(const Tensor& logits, const Tensor& targets, const BceParams& params, Tensor& dlogits) {
  const int device = logits.device().index;
  set_device(device);
  const int64_t count = logits.numel();
  const int blocks = grid_for(count);
  Tensor partial = Tensor::empty({blocks}, DType::F64, logits.device());
  const bool binarize = params.target_threshold.has_value();
  bce_kernel<<<blocks, kThreads, 0, stream(device)>>>(
      logits.data<float>(), targets.data<float>(), binarize,
      binarize ? static_cast<float>(*params.target_threshold) : 0.f, optional_data(dlogits), partial.data<double>(), count);
  PIX_CUDA_CHECK_LAUNCH("binary_cross_entropy");
  return device_sum(device, partial, blocks) / static_cast<double>(count);
}

}  // namespace pix::cuda
