// Element-wise f32 <-> bf16 conversion on the device (round to nearest even).
#include <cuda_bf16.h>

#include "core/cuda/check.h"
#include "ops/cast.h"

namespace pix::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void f32_to_bf16(const float* x, __nv_bfloat16* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] = __float2bfloat16_rn(x[i]);
}

__global__ void bf16_to_f32(const __nv_bfloat16* x, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
    y[i] = __bfloat162float(x[i]);
}

int blocks_for(int64_t n) { return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535)); }

}  // namespace

void cast(const Tensor& x, Tensor& y) {
  const int device = x.device().index;
  set_device(device);
  const int64_t n = x.numel();
  if (x.dtype() == DType::F32 && y.dtype() == DType::BF16) {
    f32_to_bf16<<<blocks_for(n), kThreads, 0, stream(device)>>>(x.data<float>(), y.data<__nv_bfloat16>(), n);
  } else if (x.dtype() == DType::BF16 && y.dtype() == DType::F32) {
    bf16_to_f32<<<blocks_for(n), kThreads, 0, stream(device)>>>(x.data<__nv_bfloat16>(), y.data<float>(), n);
  } else {
    throw Error(concat("cast: ", dtype_name(x.dtype()), " to ", dtype_name(y.dtype()), " is not a CUDA conversion"));
  }
  PIX_CUDA_CHECK_LAUNCH("cast");
}

}  // namespace pix::cuda
