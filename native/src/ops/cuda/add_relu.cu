// add_relu on CUDA: two grid-stride elementwise kernels, f32 or bf16 storage computed in f32.
// The fast path (fusing the join into the last BatchNorm's normalisation) will go in the layer,
// not here.
#include "ops/add_relu.h"
#include "ops/cuda/launch.cuh"

namespace pix::cuda {
namespace {

template <typename T>
__global__ void add_relu_kernel(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ y, int64_t n) {
  PIX_GRID_STRIDE(i, n) {
    const float v = to_float(a[i]) + to_float(b[i]);
    y[i] = from_float<T>(v > 0.f ? v : 0.f);
  }
}

// g = dy where y > 0; da and db (either may be null) get g written or added.
template <typename T>
__global__ void add_relu_backward_kernel(const T* __restrict__ y, const T* __restrict__ dy, T* da, T* db,
                                         bool da_overwrite, bool db_overwrite, int64_t n) {
  PIX_GRID_STRIDE(i, n) {
    const float g = to_float(y[i]) > 0.f ? to_float(dy[i]) : 0.f;
    if (da) da[i] = from_float<T>(da_overwrite ? g : to_float(da[i]) + g);
    if (db) db[i] = from_float<T>(db_overwrite ? g : to_float(db[i]) + g);
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
    add_relu_kernel<T><<<grid_for(n), kThreads, 0, stream(device)>>>(a.data<T>(), b.data<T>(), y.data<T>(), n);
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
    add_relu_backward_kernel<T><<<grid_for(n), kThreads, 0, stream(device)>>>(
        y.data<T>(), dy.data<T>(), da.defined() ? da.data<T>() : nullptr, db.defined() ? db.data<T>() : nullptr,
        da_write == GradWrite::Overwrite, db_write == GradWrite::Overwrite, n);
  });
  PIX_CUDA_CHECK_LAUNCH("add_relu_backward");
}

}  // namespace pix::cuda
