// The gate's sigmoid on CUDA: two elementwise kernels over (N,K) values.
#include "ops/cuda/launch.cuh"
#include "ops/sigmoid.h"

namespace pix::cuda {
namespace {

__global__ void sigmoid_kernel(const float* __restrict__ z, float* __restrict__ p, int64_t n) {
  PIX_GRID_STRIDE(i, n) p[i] = 1.f / (1.f + expf(-z[i]));
}

__global__ void sigmoid_backward_kernel(const float* __restrict__ p, const float* __restrict__ dp,
                                        float* __restrict__ dz, int64_t n) {
  PIX_GRID_STRIDE(i, n) dz[i] = dp[i] * p[i] * (1.f - p[i]);
}

}  // namespace

Tensor sigmoid_forward(const Tensor& z) {
  const int device = z.device().index;
  set_device(device);
  Tensor p = Tensor::empty(z.shape(), DType::F32, z.device());
  sigmoid_kernel<<<grid_for(z.numel()), kThreads, 0, stream(device)>>>(z.data<float>(), p.data<float>(), z.numel());
  PIX_CUDA_CHECK_LAUNCH("sigmoid");
  return p;
}

Tensor sigmoid_backward(const Tensor& p, const Tensor& dp) {
  const int device = p.device().index;
  set_device(device);
  Tensor dz = Tensor::empty(p.shape(), DType::F32, p.device());
  sigmoid_backward_kernel<<<grid_for(p.numel()), kThreads, 0, stream(device)>>>(p.data<float>(), dp.data<float>(),
                                                                                dz.data<float>(), p.numel());
  PIX_CUDA_CHECK_LAUNCH("sigmoid_backward");
  return dz;
}

}  // namespace pix::cuda
