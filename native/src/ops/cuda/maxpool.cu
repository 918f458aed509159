// Max pooling on CUDA, NHWC, f32 or bf16. Forward: one thread per output element scans its window
// in (kh, kw) order and keeps the first maximum, as the CPU does. Backward gathers instead of
// scattering: one thread per input element adds the gradients of the windows whose first maximum
// it is, in output order, so no atomics are needed and the sums match the CPU's order.
// Fast path, later: stem-specific (3x3/2) kernel with vector loads over channels.
#include "ops/cuda/launch.cuh"
#include "ops/maxpool.h"

namespace pix::cuda {
namespace {

struct PoolDims {
  int64_t n, h, w, c, p, q;
  int kernel, stride, pad;
};

// Flat x index of the first maximum of output (n, p, q, c)'s window.
template <typename T>
__device__ int64_t window_argmax(const T* x, const PoolDims& d, int64_t n, int64_t p, int64_t q, int64_t c) {
  float best = 0.f;
  int64_t best_at = -1;
  for (int kh = 0; kh < d.kernel; ++kh) {
    const int64_t h = p * d.stride - d.pad + kh;
    if (h < 0 || h >= d.h) continue;
    for (int kw = 0; kw < d.kernel; ++kw) {
      const int64_t w = q * d.stride - d.pad + kw;
      if (w < 0 || w >= d.w) continue;
      const int64_t at = ((n * d.h + h) * d.w + w) * d.c + c;
      const float v = to_float(x[at]);
      if (best_at < 0 || v > best) best = v, best_at = at;
    }
  }
  return best_at;
}

template <typename T>
__global__ void maxpool_kernel(const T* __restrict__ x, T* __restrict__ y, PoolDims d, int64_t total) {
  PIX_GRID_STRIDE(i, total) {
    const int64_t c = i % d.c, q = (i / d.c) % d.q, p = (i / (d.c * d.q)) % d.p, n = i / (d.c * d.q * d.p);
    y[i] = x[window_argmax(x, d, n, p, q, c)];
  }
}

template <typename T>
__global__ void maxpool_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                                        PoolDims d, int64_t total) {
  PIX_GRID_STRIDE(i, total) {
    const int64_t c = i % d.c, w = (i / d.c) % d.w, h = (i / (d.c * d.w)) % d.h, n = i / (d.c * d.w * d.h);
    // Outputs whose window covers row h: p*stride - pad <= h <= p*stride - pad + kernel - 1.
    const int64_t p0 = max(int64_t{0}, static_cast<int64_t>(h + d.pad - d.kernel + d.stride) / d.stride);
    const int64_t p1 = min(d.p - 1, (h + d.pad) / d.stride);
    const int64_t q0 = max(int64_t{0}, static_cast<int64_t>(w + d.pad - d.kernel + d.stride) / d.stride);
    const int64_t q1 = min(d.q - 1, (w + d.pad) / d.stride);
    float acc = 0.f;
    for (int64_t p = p0; p <= p1; ++p)
      for (int64_t q = q0; q <= q1; ++q)
        if (window_argmax(x, d, n, p, q, c) == i) acc += to_float(dy[((n * d.p + p) * d.q + q) * d.c + c]);
    dx[i] = from_float<T>(acc);
  }
}

PoolDims dims_of(const Tensor& x, const PoolParams& params) {
  PoolDims d{x.size(0), x.size(1), x.size(2), x.size(3), 0, 0, params.kernel, params.stride, params.pad};
  d.p = (d.h + 2 * d.pad - d.kernel) / d.stride + 1;
  d.q = (d.w + 2 * d.pad - d.kernel) / d.stride + 1;
  return d;
}

}  // namespace

Tensor maxpool_forward(const Tensor& x, const PoolParams& params) {
  const int device = x.device().index;
  set_device(device);
  const PoolDims d = dims_of(x, params);
  Tensor y = Tensor::empty({d.n, d.p, d.q, d.c}, x.dtype(), x.device());
  const int64_t total = y.numel();
  with_activation_type(x.dtype(), "maxpool", [&](auto zero) {
    using T = decltype(zero);
    maxpool_kernel<T><<<grid_for(total), kThreads, 0, stream(device)>>>(x.data<T>(), y.data<T>(), d, total);
  });
  PIX_CUDA_CHECK_LAUNCH("maxpool");
  return y;
}

void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx) {
  const int device = x.device().index;
  set_device(device);
  const PoolDims d = dims_of(x, params);
  const int64_t total = x.numel();
  with_activation_type(x.dtype(), "maxpool_backward", [&](auto zero) {
    using T = decltype(zero);
    maxpool_backward_kernel<T><<<grid_for(total), kThreads, 0, stream(device)>>>(x.data<T>(), dy.data<T>(),
                                                                                 dx.data<T>(), d, total);
  });
  PIX_CUDA_CHECK_LAUNCH("maxpool_backward");
}

}  // namespace pix::cuda
