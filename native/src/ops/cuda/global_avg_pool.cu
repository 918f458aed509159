// Global average pooling on CUDA: the per-image channel means of channel_means.cuh, with 16-byte
// loads where rows allow (every ResNet stage); the backward adds dy / HW to every pixel.
#include "ops/cuda/channel_means.cuh"
#include "ops/global_avg_pool.h"

namespace pix::cuda {
namespace {

// The chunk sums of x's rows.
template <typename T, int V>
__global__ void pool_partials(const T* __restrict__ x, int64_t hw, int64_t c, int64_t chunks,
                              double* __restrict__ partial) {
  const MeanRows r = mean_rows(hw, c, V);
  double acc[V] = {};
  if (r.ch0 < c) {
    for (int64_t row = r.first; row < r.last; row += r.step) {
      const Pack<T, V> v = *reinterpret_cast<const Pack<T, V>*>(x + row * c + r.ch0);
#pragma unroll
      for (int j = 0; j < V; ++j) acc[j] += to_float(v.v[j]);
    }
  }
  store_chunk_sums(acc, r, c, chunks, partial);
}

__global__ void mean_kernel(const double* __restrict__ partial, int64_t chunks, int64_t n, int64_t c, int64_t hw,
                            float* __restrict__ mean) {
  PIX_GRID_STRIDE(i, n * c) {
    const int64_t img = i / c, ch = i % c;
    double total = 0;
    for (int64_t k = 0; k < chunks; ++k) total += partial[(img * chunks + k) * c + ch];
    mean[i] = static_cast<float>(total / hw);
  }
}

// dx (N,HW,C) += dy (N,C) / HW
template <typename T, int V>
__global__ void unpool_kernel(const float* __restrict__ dy, T* __restrict__ dx, int64_t hw, int64_t c, int64_t total,
                              float inv) {
  PIX_GRID_STRIDE(i, total / V) {
    const int64_t first = i * V, ch0 = first % c;
    const float* g = dy + first / (hw * c) * c + ch0;
    Pack<T, V> v = reinterpret_cast<Pack<T, V>*>(dx)[i];
#pragma unroll
    for (int j = 0; j < V; ++j) v.v[j] = from_float<T>(to_float(v.v[j]) + g[j] * inv);
    reinterpret_cast<Pack<T, V>*>(dx)[i] = v;
  }
}

}  // namespace

void finish_channel_means(const double* partial, int64_t chunks, int64_t n, int64_t c, int64_t hw, float* mean,
                          cudaStream_t st) {
  mean_kernel<<<grid_for(n * c), kThreads, 0, st>>>(partial, chunks, n, c, hw, mean);
  PIX_CUDA_CHECK_LAUNCH("channel means");
}

Tensor global_avg_pool_forward(const Tensor& x) {
  Tensor y = Tensor::empty({x.size(0), x.size(3)}, DType::F32, x.device());
  global_avg_pool_forward_into(x, y);
  return y;
}

void global_avg_pool_forward_into(const Tensor& x, Tensor& y) {
  const int device = x.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  const int64_t n = x.size(0), hw = x.size(1) * x.size(2), c = x.size(3);
  with_activation_type(x.dtype(), "global_avg_pool", [&](auto zero) {
    using T = decltype(zero);
    with_vector_width<T>(vector_width<T>(c, {x.raw_data()}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      const MeanLaunch l = mean_launch(n, hw, c, V);
      Tensor partial = Tensor::empty({n, l.chunks, c}, DType::F64, x.device());
      pool_partials<T, V><<<l.grid, l.block, 0, st>>>(x.data<T>(), hw, c, l.chunks, partial.data<double>());
      PIX_CUDA_CHECK_LAUNCH("global_avg_pool (chunk sums)");
      finish_channel_means(partial.data<double>(), l.chunks, n, c, hw, y.data<float>(), st);
    });
  });
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const int device = dx.device().index;
  set_device(device);
  const int64_t hw = dx.size(1) * dx.size(2), c = dx.size(3), total = dx.numel();
  with_activation_type(dx.dtype(), "global_avg_pool_backward", [&](auto zero) {
    using T = decltype(zero);
    with_vector_width<T>(vector_width<T>(c, {dx.raw_data()}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      unpool_kernel<T, V><<<grid_for(total / V), kThreads, 0, stream(device)>>>(
          dy.data<float>(), dx.data<T>(), hw, c, total, 1.f / static_cast<float>(hw));
    });
  });
  PIX_CUDA_CHECK_LAUNCH("global_avg_pool_backward");
}

}  // namespace pix::cuda
