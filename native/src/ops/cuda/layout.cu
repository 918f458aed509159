// Layout transposes on CUDA: one thread per output element gathers its input (writes coalesced).
// Fast path, later: a shared-memory tiled transpose so reads coalesce too.
#include "ops/cuda/launch.cuh"
#include "ops/layout.h"

namespace pix::cuda {
namespace {

// y (N,B,A) from x (N,A,B)
template <typename T>
__global__ void transpose_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t a, int64_t b, int64_t total) {
  PIX_GRID_STRIDE(i, total) {
    const int64_t ia = i % a, jb = (i / a) % b, img = i / (a * b);
    y[i] = x[(img * a + ia) * b + jb];
  }
}

}  // namespace

Tensor transpose_planes(const Tensor& x, int64_t a, int64_t b, const Shape& out_shape) {
  const int device = x.device().index;
  set_device(device);
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  const int64_t total = y.numel();
  with_activation_type(x.dtype(), "layout", [&](auto zero) {
    using T = decltype(zero);
    transpose_kernel<T><<<grid_for(total), kThreads, 0, stream(device)>>>(x.data<T>(), y.data<T>(), a, b, total);
  });
  PIX_CUDA_CHECK_LAUNCH("layout transpose");
  return y;
}

}  // namespace pix::cuda
