// Max pooling on CUDA, NHWC, f32 or bf16. Forward: each thread scans one output's window in
// (kh, kw) order for V channels (16-byte loads where the channels allow, launch.cuh) and keeps each
// channel's first maximum, as the CPU does. Backward gathers instead of scattering: each thread
// takes V channels of one input pixel and adds the gradients of the windows whose first maximum it
// is, in output order, so no atomics are needed and the sums match the CPU's order.
#include "ops/cuda/launch.cuh"
#include "ops/maxpool.h"

namespace pix::cuda {
namespace {

struct PoolDims {
  int64_t n, h, w, c, p, q;
  int kernel, stride, pad;
};

// Channels [c0, c0 + V) of output (n, p, q): each one's maximum, and where in the window it first
// occurs (kh * kernel + kw).
template <typename T, int V>
__device__ void window_max(const T* __restrict__ x, const PoolDims& d, int64_t n, int64_t p, int64_t q, int64_t c0,
                           float (&best)[V], int (&best_at)[V]) {
#pragma unroll
  for (int j = 0; j < V; ++j) best[j] = 0.f, best_at[j] = -1;
  for (int kh = 0; kh < d.kernel; ++kh) {
    const int64_t h = p * d.stride - d.pad + kh;
    if (h < 0 || h >= d.h) continue;
    for (int kw = 0; kw < d.kernel; ++kw) {
      const int64_t w = q * d.stride - d.pad + kw;
      if (w < 0 || w >= d.w) continue;
      const Pack<T, V> v = *reinterpret_cast<const Pack<T, V>*>(x + ((n * d.h + h) * d.w + w) * d.c + c0);
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float f = to_float(v.v[j]);
        if (best_at[j] < 0 || f > best[j]) best[j] = f, best_at[j] = kh * d.kernel + kw;
      }
    }
  }
}

template <typename T, int V>
__global__ void maxpool_kernel(const T* __restrict__ x, T* __restrict__ y, PoolDims d, int64_t total) {
  PIX_GRID_STRIDE(i, total / V) {
    const int64_t first = i * V, c0 = first % d.c, pixel = first / d.c;
    const int64_t q = pixel % d.q, p = pixel / d.q % d.p, n = pixel / (d.q * d.p);
    float best[V];
    int best_at[V];
    window_max<T, V>(x, d, n, p, q, c0, best, best_at);
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) out.v[j] = from_float<T>(best[j]);  // exact: best is one of x's values
    reinterpret_cast<Pack<T, V>*>(y)[i] = out;
  }
}

template <typename T, int V>
__global__ void maxpool_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                                        PoolDims d, int64_t total) {
  PIX_GRID_STRIDE(i, total / V) {
    const int64_t first = i * V, c0 = first % d.c, pixel = first / d.c;
    const int64_t w = pixel % d.w, h = pixel / d.w % d.h, n = pixel / (d.w * d.h);
    // Outputs whose window covers row h: p*stride - pad <= h <= p*stride - pad + kernel - 1.
    const int64_t p0 = max(int64_t{0}, static_cast<int64_t>(h + d.pad - d.kernel + d.stride) / d.stride);
    const int64_t p1 = min(d.p - 1, (h + d.pad) / d.stride);
    const int64_t q0 = max(int64_t{0}, static_cast<int64_t>(w + d.pad - d.kernel + d.stride) / d.stride);
    const int64_t q1 = min(d.q - 1, (w + d.pad) / d.stride);
    float acc[V] = {};
    for (int64_t p = p0; p <= p1; ++p) {
      for (int64_t q = q0; q <= q1; ++q) {
        float best[V];
        int best_at[V];
        window_max<T, V>(x, d, n, p, q, c0, best, best_at);
        const int here = static_cast<int>((h - (p * d.stride - d.pad)) * d.kernel + (w - (q * d.stride - d.pad)));
        const Pack<T, V> g = *reinterpret_cast<const Pack<T, V>*>(dy + ((n * d.p + p) * d.q + q) * d.c + c0);
#pragma unroll
        for (int j = 0; j < V; ++j)
          if (best_at[j] == here) acc[j] += to_float(g.v[j]);
      }
    }
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) out.v[j] = from_float<T>(acc[j]);
    reinterpret_cast<Pack<T, V>*>(dx)[i] = out;
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
    with_vector_width<T>(vector_width<T>(d.c, {x.raw_data(), y.raw_data()}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      maxpool_kernel<T, V><<<grid_for(total / V), kThreads, 0, stream(device)>>>(x.data<T>(), y.data<T>(), d, total);
    });
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
    with_vector_width<T>(vector_width<T>(d.c, {x.raw_data(), dy.raw_data(), dx.raw_data()}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      maxpool_backward_kernel<T, V><<<grid_for(total / V), kThreads, 0, stream(device)>>>(
          x.data<T>(), dy.data<T>(), dx.data<T>(), d, total);
    });
  });
  PIX_CUDA_CHECK_LAUNCH("maxpool_backward");
}

}  // namespace pix::cuda
