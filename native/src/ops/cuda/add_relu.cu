// add_relu on CUDA: two grid-stride elementwise kernels, f32 or bf16 storage computed in f32,
// 16 bytes per access where the tensors allow (launch.cuh's vector width; the whole tensor is one
// row here, so only its length and alignment matter).
// The fast path (fusing the join into the last BatchNorm's normalisation) will go in the layer,
// not here.
#include "ops/add_relu.h"
#include "ops/cuda/launch.cuh"

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

Tensor add_relu_forward(const Tensor& a, const Tensor& b) {
  const int device = a.device().index;
  set_device(device);
  Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
  const int64_t n = a.numel();
  with_activation_type(a.dtype(), "add_relu", [&](auto zero) {
    using T = decltype(zero);
    with_vector_width<T>(vector_width<T>(n, {a.raw_data(), b.raw_data(), y.raw_data()}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      add_relu_kernel<T, V><<<grid_for(n / V), kThreads, 0, stream(device)>>>(a.data<T>(), b.data<T>(), y.data<T>(), n);
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
