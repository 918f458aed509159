// Dropout on CUDA: the CPU's counter-based mask (core/random.h compiled for the device), so both
// backends drop the same elements for the same seed. f32 only (the head's pooled features).
#include "core/random.h"
#include "ops/cuda/launch.cuh"
#include "ops/dropout.h"

namespace pix::cuda {
namespace {

__global__ void dropout_kernel(const float* __restrict__ x, float* __restrict__ y, float* __restrict__ mask, float p,
                               float keep_scale, uint64_t seed, int64_t n) {
  PIX_GRID_STRIDE(i, n) {
    const double u = unit_interval(splitmix64(seed ^ splitmix64(static_cast<uint64_t>(i))));
    const float m = u < p ? 0.f : keep_scale;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

__global__ void dropout_backward_kernel(const float* __restrict__ dy, const float* __restrict__ mask,
                                        float* __restrict__ dx, int64_t n) {
  PIX_GRID_STRIDE(i, n) dx[i] += dy[i] * mask[i];
}

}  // namespace

Tensor dropout_forward(const Tensor& x, float p, uint64_t seed, Tensor& mask) {
  const int device = x.device().index;
  set_device(device);
  const int64_t n = x.numel();
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  mask = Tensor::empty(x.shape(), DType::F32, x.device());
  dropout_kernel<<<grid_for(n), kThreads, 0, stream(device)>>>(x.data<float>(), y.data<float>(), mask.data<float>(), p,
                                                               1.f / (1.f - p), seed, n);
  PIX_CUDA_CHECK_LAUNCH("dropout");
  return y;
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  const int device = dy.device().index;
  set_device(device);
  const int64_t n = dy.numel();
  dropout_backward_kernel<<<grid_for(n), kThreads, 0, stream(device)>>>(dy.data<float>(), mask.data<float>(),
                                                                         dx.data<float>(), n);
  PIX_CUDA_CHECK_LAUNCH("dropout_backward");
}

}  // namespace pix::cuda
