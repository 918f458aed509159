// add_relu on CUDA: two grid-stride elementwise kernels, f32 or bf16 storage computed in f32,
// 16 bytes per access where the tensors allow (launch.cuh's vector width; the whole tensor is one
// row here, so only its length and alignment matter).
// The fast path (fusing the join into the last BatchNorm's normalisation) will go in the layer,
// not here.
#include "ops/add_relu.h"
#include "ops/cuda/channel_means.cuh"

namespace pix::cuda {
namespace {

template <typename T, int V>
__global__ void add_relu_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ y, int64_t n) {
  PIX_GRID_STRIDE(i, n / V) {
    const Pack<T, V> av = reinterpret_cast<const Pack<T, V>*>(a)[i], bv = reinterpret_cast<const Pack<T, V>*>(b)[i];
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const float v = to_float(av.v[j]) + to_float(bv.v[j]);
      out.v[j] = from_float<T>(v > 0.f ? v : 0.f);
    }
    reinterpret_cast<Pack<T, V>*>(y)[i] = out;
  }
}

// y = relu(a + b) for the rows of one chunk of one image (channel_means.cuh), and their chunk sums:
// the mean is of y as stored (rounded to T), as a pool reading y would see it.
template <typename T, int V>
__global__ void add_relu_mean_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ y, int64_t hw,
                                     int64_t c, int64_t chunks, double* __restrict__ partial) {
  const MeanRows r = mean_rows(hw, c, V);
  double acc[V] = {};
  if (r.ch0 < c) {
    for (int64_t row = r.first; row < r.last; row += r.step) {
      const int64_t i = row * c + r.ch0;
      const Pack<T, V> av = *reinterpret_cast<const Pack<T, V>*>(a + i), bv = *reinterpret_cast<const Pack<T, V>*>(b + i);
      Pack<T, V> out;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const float v = to_float(av.v[j]) + to_float(bv.v[j]);
        out.v[j] = from_float<T>(v > 0.f ? v : 0.f);
        acc[j] += to_float(out.v[j]);
      }
      *reinterpret_cast<Pack<T, V>*>(y + i) = out;
    }
  }
  store_chunk_sums(acc, r, c, chunks, partial);
}

// g = dy where y > 0, into `out` (written, or added to what it holds).
template <typename T, int V>
__device__ __forceinline__ void write_gradient(T* out, int64_t i, const float (&g)[V], bool overwrite) {
  Pack<T, V> v{};
  if (!overwrite) v = reinterpret_cast<const Pack<T, V>*>(out)[i];
#pragma unroll
  for (int j = 0; j < V; ++j) v.v[j] = from_float<T>(overwrite ? g[j] : to_float(v.v[j]) + g[j]);
  reinterpret_cast<Pack<T, V>*>(out)[i] = v;
}

// da and db (either may be null) get g written or added.
template <typename T, int V>
__global__ void add_relu_backward_kernel(const T* __restrict__ y, const T* __restrict__ dy, T* da, T* db,
                                         bool da_overwrite, bool db_overwrite, int64_t n) {
  PIX_GRID_STRIDE(i, n / V) {
    const Pack<T, V> yv = reinterpret_cast<const Pack<T, V>*>(y)[i], gv = reinterpret_cast<const Pack<T, V>*>(dy)[i];
    float g[V];
#pragma unroll
    for (int j = 0; j < V; ++j) g[j] = to_float(yv.v[j]) > 0.f ? to_float(gv.v[j]) : 0.f;
    if (da) write_gradient<T, V>(da, i, g, da_overwrite);
    if (db) write_gradient<T, V>(db, i, g, db_overwrite);
  }
}

}  // namespace

Tensor add_relu_forward(const Tensor& a, const Tensor& b, Tensor* mean) {
  const int device = a.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  const int64_t n = a.numel();
  with_activation_type(a.dtype(), "add_relu", [&](auto zero) {
    using T = decltype(zero);
    if (!mean) {
      with_vector_width<T>(vector_width<T>(n, {a.raw_data(), b.raw_data(), y.raw_data()}), [&](auto width) {
        constexpr int V = decltype(width)::value;
        add_relu_kernel<T, V><<<grid_for(n / V), kThreads, 0, st>>>(a.data<T>(), b.data<T>(), y.data<T>(), n);
      });
      return;
    }
    const int64_t images = a.size(0), hw = a.size(1) * a.size(2), c = a.size(3);
    *mean = Tensor::empty({images, c}, DType::F32, a.device());
    with_vector_width<T>(vector_width<T>(c, {a.raw_data(), b.raw_data(), y.raw_data()}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      const MeanLaunch l = mean_launch(images, hw, c, V);
      Tensor partial = Tensor::empty({images, l.chunks, c}, DType::F64, a.device());
      add_relu_mean_kernel<T, V><<<l.grid, l.block, 0, st>>>(a.data<T>(), b.data<T>(), y.data<T>(), hw, c, l.chunks,
                                                              partial.data<double>());
      PIX_CUDA_CHECK_LAUNCH("add_relu (with the mean)");
      finish_channel_means(partial.data<double>(), l.chunks, images, c, hw, mean->data<float>(), st);
    });
  });
  PIX_CUDA_CHECK_LAUNCH("add_relu");
  return y;
}

void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write) {
  if (!da.defined() && !db.defined()) return;
  const int device = y.device().index;
  set_device(device);
  const int64_t n = y.numel();
  with_activation_type(y.dtype(), "add_relu_backward", [&](auto zero) {
    using T = decltype(zero);
    T* das = da.defined() ? da.data<T>() : nullptr;
    T* dbs = db.defined() ? db.data<T>() : nullptr;
    with_vector_width<T>(vector_width<T>(n, {y.raw_data(), dy.raw_data(), das, dbs}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      add_relu_backward_kernel<T, V><<<grid_for(n / V), kThreads, 0, stream(device)>>>(
          y.data<T>(), dy.data<T>(), das, dbs, da_write == GradWrite::Overwrite, db_write == GradWrite::Overwrite, n);
    });
  });
  PIX_CUDA_CHECK_LAUNCH("add_relu_backward");
}

}  // namespace pix::cuda
