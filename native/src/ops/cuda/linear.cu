// linear on CUDA: y = x w^T + b as a bias broadcast then one cuda::gemm; the backward is two
// gemms and a column sum of dy (in double, like the CPU). All f32.
#include "ops/cuda/gemm.h"
#include "ops/cuda/launch.cuh"
#include "ops/linear.h"

namespace pix::cuda {
namespace {

// y (N,O) = b broadcast over rows
__global__ void broadcast_rows(const float* __restrict__ b, float* __restrict__ y, int64_t n, int64_t o) {
  PIX_GRID_STRIDE(i, n * o) y[i] = b[i % o];
}

// db (O) += sum over rows of dy (N,O); one thread per column.
__global__ void column_sums(const float* __restrict__ dy, float* __restrict__ db, int64_t n, int64_t o) {
  PIX_GRID_STRIDE(j, o) {
    double acc = 0;
    for (int64_t i = 0; i < n; ++i) acc += dy[i * o + j];
    db[j] += static_cast<float>(acc);
  }
}

}  // namespace

Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int device = x.device().index;
  set_device(device);
  const int64_t n = x.size(0), c = x.size(1), o = w.size(0);
  Tensor y = Tensor::empty({n, o}, DType::F32, x.device());
  GemmParams g;
  g.trans_b = true;
  g.m = n, g.n = o, g.k = c, g.lda = c, g.ldb = c, g.ldc = o;
  if (b.defined()) {
    broadcast_rows<<<grid_for(n * o), kThreads, 0, stream(device)>>>(b.data<float>(), y.data<float>(), n, o);
    PIX_CUDA_CHECK_LAUNCH("linear (bias)");
    g.beta = 1.f;
  }
  gemm(device, g, DType::F32, x.raw_data(), w.raw_data(), DType::F32, y.raw_data());
  return y;
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db) {
  const int device = x.device().index;
  set_device(device);
  const int64_t n = x.size(0), c = x.size(1), o = w.size(0);
  GemmParams gw;  // dw (O,C) += dy^T (O,N) * x (N,C)
  gw.trans_a = true;
  gw.m = o, gw.n = c, gw.k = n, gw.lda = o, gw.ldb = c, gw.ldc = c, gw.beta = 1.f;
  gemm(device, gw, DType::F32, dy.raw_data(), x.raw_data(), DType::F32, dw.raw_data());
  if (dx.defined()) {
    GemmParams gx;  // dx (N,C) += dy (N,O) * w (O,C)
    gx.m = n, gx.n = c, gx.k = o, gx.lda = o, gx.ldb = c, gx.ldc = c, gx.beta = 1.f;
    gemm(device, gx, DType::F32, dy.raw_data(), w.raw_data(), DType::F32, dx.raw_data());
  }
  if (db.defined()) {
    column_sums<<<grid_for(o), kThreads, 0, stream(device)>>>(dy.data<float>(), db.data<float>(), n, o);
    PIX_CUDA_CHECK_LAUNCH("linear_backward (bias)");
  }
}

}  // namespace pix::cuda
