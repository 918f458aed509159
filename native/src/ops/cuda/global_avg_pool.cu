// Global average pooling on CUDA: one thread per (image, channel) walks the image's pixels,
// summing in double like the CPU; consecutive threads read consecutive channels (coalesced).
// Fast path, later: split large maps over several blocks (early stages have few (n, c) pairs).
#include "ops/cuda/launch.cuh"
#include "ops/global_avg_pool.h"

namespace pix::cuda {
namespace {

// x (N,HW,C) -> y (N,C) f32
template <typename T>
__global__ void pool_kernel(const T* __restrict__ x, float* __restrict__ y, int64_t n, int64_t hw, int64_t c) {
  PIX_GRID_STRIDE(i, n * c) {
    const int64_t img = i / c, ch = i % c;
    const T* xs = x + img * hw * c + ch;
    double acc = 0;
    for (int64_t q = 0; q < hw; ++q) acc += to_float(xs[q * c]);
    y[i] = static_cast<float>(acc / hw);
  }
}

// dx (N,HW,C) += dy (N,C) / HW
template <typename T>
__global__ void unpool_kernel(const float* __restrict__ dy, T* __restrict__ dx, int64_t hw, int64_t c, int64_t total,
                              float inv) {
  PIX_GRID_STRIDE(i, total) {
    const int64_t ch = i % c, img = i / (hw * c);
    dx[i] = from_float<T>(to_float(dx[i]) + dy[img * c + ch] * inv);
  }
}

}  // namespace

Tensor global_avg_pool_forward(const Tensor& x) {
  const int device = x.device().index;
  set_device(device);
  const int64_t n = x.size(0), hw = x.size(1) * x.size(2), c = x.size(3);
  Tensor y = Tensor::empty({n, c}, DType::F32, x.device());
  with_activation_type(x.dtype(), "global_avg_pool", [&](auto zero) {
    using T = decltype(zero);
    pool_kernel<T><<<grid_for(n * c), kThreads, 0, stream(device)>>>(x.data<T>(), y.data<float>(), n, hw, c);
  });
  PIX_CUDA_CHECK_LAUNCH("global_avg_pool");
  return y;
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const int device = dx.device().index;
  set_device(device);
  const int64_t hw = dx.size(1) * dx.size(2), c = dx.size(3), total = dx.numel();
  with_activation_type(dx.dtype(), "global_avg_pool_backward", [&](auto zero) {
    using T = decltype(zero);
    unpool_kernel<T><<<grid_for(total), kThreads, 0, stream(device)>>>(dy.data<float>(), dx.data<T>(), hw, c, total,
                                                                       1.f / static_cast<float>(hw));
  });
  PIX_CUDA_CHECK_LAUNCH("global_avg_pool_backward");
}

}  // namespace pix::cuda
