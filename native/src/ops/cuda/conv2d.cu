// 2-D convolution on CUDA, NHWC activations and OHWI weights, the project's own path:
// im2col into a column buffer, then cuda::gemm (the same lowering as the CPU backend). A 1x1,
// stride-1, unpadded convolution needs no columns: x already is the (N*H*W, C) matrix.
//
//   forward:          y (M,O)   = cols (M,K) * w^T          M = N*P*Q, K = KH*KW*C
//   backward data:    dcols (M,K) = dy (M,O) * w (O,K), then col2im gathers into dx
//   backward weight:  dw (O,K) += dy^T (O,M) * cols (M,K)
//
// Images go through in chunks whose columns fit kColumnBudget bytes, so ImageNet batches do not
// need gigabytes of columns. bf16 activations round w to bf16 as well; products sum in f32, dw is
// f32 and dcols stay f32 until col2im rounds the finished sum once.
// This is the fallback: cuDNN runs each direction first where it is loaded (ops/cuda/conv2d_cudnn.h),
// and this path takes what cuDNN does not.
//
// Evaluation's epilogue (bias, residual, ReLU: BatchNorm folded into the weights) is cuDNN's fused
// call where it runs; elsewhere the convolution, then one pass over y applying it. The mean of y per
// image and channel, when asked, is a pass of its own (global_avg_pool).
#include "ops/cast.h"
#include "ops/conv2d.h"
#include "ops/global_avg_pool.h"
#include "ops/cuda/conv2d_cudnn.h"
#include "ops/cuda/gemm.h"
#include "ops/cuda/launch.cuh"

namespace pix::cuda {
namespace {

constexpr int64_t kColumnBudget = int64_t{256} << 20;  // bytes of column buffer per chunk of images

// cols (rows of images [n0, n0+count), K) from x: row r = (n*P + p)*Q + q, column (kh*KW + kw)*C + c,
// zero where the window hangs over the padding.
template <typename T>
__global__ void im2col(const T* __restrict__ x, T* __restrict__ cols, ConvShape s, int64_t n0, int64_t count) {
  const int64_t k = static_cast<int64_t>(s.kernel) * s.kernel * s.c;
  PIX_GRID_STRIDE(i, count * s.p * s.q * k) {
    const int64_t col = i % k, row = i / k;
    const int64_t c = col % s.c, kw = (col / s.c) % s.kernel, kh = col / (s.c * s.kernel);
    const int64_t q = row % s.q, p = (row / s.q) % s.p, n = n0 + row / (s.q * s.p);
    const int64_t h = p * s.stride - s.pad + kh, w = q * s.stride - s.pad + kw;
    cols[i] = h >= 0 && h < s.h && w >= 0 && w < s.w ? x[((n * s.h + h) * s.w + w) * s.c + c] : from_float<T>(0.f);
  }
}

// dx of images [n0, n0+count) from f32 dcols: each input element sums the column entries it fed,
// in (kh, kw) order; written or added as `overwrite` says.
template <typename T>
__global__ void col2im(const float* __restrict__ dcols, T* __restrict__ dx, ConvShape s, int64_t n0, int64_t count,
                       bool overwrite) {
  const int64_t k = static_cast<int64_t>(s.kernel) * s.kernel * s.c;
  PIX_GRID_STRIDE(i, count * s.h * s.w * s.c) {
    const int64_t c = i % s.c, w = (i / s.c) % s.w, h = (i / (s.c * s.w)) % s.h, n = i / (s.c * s.w * s.h);
    float acc = 0.f;
    for (int kh = 0; kh < s.kernel; ++kh) {
      const int64_t ph = h + s.pad - kh;
      if (ph < 0 || ph % s.stride != 0 || ph / s.stride >= s.p) continue;
      for (int kw = 0; kw < s.kernel; ++kw) {
        const int64_t qw = w + s.pad - kw;
        if (qw < 0 || qw % s.stride != 0 || qw / s.stride >= s.q) continue;
        const int64_t row = (n * s.p + ph / s.stride) * s.q + qw / s.stride;
        acc += dcols[row * k + (kh * s.kernel + kw) * s.c + c];
      }
    }
    T* out = dx + (n0 * s.h * s.w * s.c) + i;
    *out = from_float<T>(overwrite ? acc : to_float(*out) + acc);
  }
}

struct Lowering {
  bool direct;              // 1x1, stride 1, no padding: x is the column matrix
  int64_t k;                // KH*KW*C
  int64_t images_per_chunk;
};

Lowering lowering_for(const ConvShape& s, size_t bytes_per_column_value) {
  Lowering l{};
  l.direct = s.kernel == 1 && s.stride == 1 && s.pad == 0;
  l.k = static_cast<int64_t>(s.kernel) * s.kernel * s.c;
  const int64_t per_image = std::max<int64_t>(1, s.p * s.q * l.k * static_cast<int64_t>(bytes_per_column_value));
  l.images_per_chunk = l.direct ? s.n : std::max<int64_t>(1, std::min<int64_t>(s.n, kColumnBudget / per_image));
  return l;
}

// The weight in the activations' dtype: as given when it already is (nn::Conv keeps its cast), else a bf16 copy.
Tensor weight_for(const Tensor& w, DType activations) {
  return w.dtype() == activations ? w : ::pix::cast(w, activations);
}

// dw (f32) += g: cuDNN's weight gradient of a bf16 convolution is bf16, as PyTorch's autocast
// gives it, and the f32 master gradient sums it.
__global__ void add_into_f32(const __nv_bfloat16* __restrict__ g, float* __restrict__ dw, int64_t n) {
  PIX_GRID_STRIDE(i, n) dw[i] += __bfloat162float(g[i]);
}

// The weight gradient on cuDNN, added into dw; false (nothing queued) where cuDNN does not run it.
bool weight_gradient_on_cudnn(const Tensor& x, const Tensor& dy, const ConvShape& s, Tensor& dw, cudaStream_t st) {
  if (x.dtype() == DType::F32) return cudnn_conv_backward_filter(x, dy, s, dw, 1.f);
  Tensor g = Tensor::empty(dw.shape(), x.dtype(), x.device());
  if (!cudnn_conv_backward_filter(x, dy, s, g, 0.f)) return false;
  add_into_f32<<<grid_for(g.numel()), kThreads, 0, st>>>(g.data<__nv_bfloat16>(), dw.data<float>(), g.numel());
  PIX_CUDA_CHECK_LAUNCH("conv2d_backward (dw += cuDNN's bf16 dw)");
  return true;
}

// y = relu?(y (+ bias[o]) (+ residual)), in place: the epilogue where cuDNN's fused call does not
// run. bias (may be null) is f32 or y's dtype; sums in f32, y rounded once.
template <typename T, typename B>
__global__ void apply_epilogue(T* __restrict__ y, const B* __restrict__ bias, const T* __restrict__ residual,
                               bool relu, int64_t o, int64_t n) {
  PIX_GRID_STRIDE(i, n) {
    float v = to_float(y[i]);
    if (bias) v += to_float(bias[i % o]);
    if (residual) v += to_float(residual[i]);
    y[i] = from_float<T>(relu ? fmaxf(v, 0.f) : v);
  }
}

template <typename T>
void fill_columns(const Tensor& x, const ConvShape& s, const Lowering& l, int64_t n0, int64_t count, Tensor& cols,
                  cudaStream_t st) {
  im2col<T><<<grid_for(count * s.p * s.q * l.k), kThreads, 0, st>>>(x.data<T>(), cols.data<T>(), s, n0, count);
  PIX_CUDA_CHECK_LAUNCH("conv2d (im2col)");
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const ConvShape& s, Tensor& y) {
  const int device = x.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  const DType dt = x.dtype();
  const Tensor wt = weight_for(w, dt);
  if (cudnn_conv_forward(x, wt, s, y)) return;
  const Lowering l = lowering_for(s, dtype_size(dt));
  Tensor cols;
  if (!l.direct) cols = Tensor::empty({l.images_per_chunk * s.p * s.q, l.k}, dt, x.device());
  with_activation_type(dt, "conv2d", [&](auto zero) {
    using T = decltype(zero);
    for (int64_t n0 = 0; n0 < s.n; n0 += l.images_per_chunk) {
      const int64_t count = std::min(l.images_per_chunk, s.n - n0);
      const T* a = x.data<T>();
      if (!l.direct) {
        fill_columns<T>(x, s, l, n0, count, cols, st);
        a = cols.data<T>();
      }
      GemmParams g;
      g.trans_b = true;
      g.m = count * s.p * s.q, g.n = s.o, g.k = l.k, g.lda = l.k, g.ldb = l.k, g.ldc = s.o;
      gemm(device, g, dt, a, wt.raw_data(), dt, y.data<T>() + n0 * s.p * s.q * s.o);
    }
  });
}

void conv2d_forward(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& e, Tensor& y) {
  const int device = x.device().index;
  set_device(device);
  const DType dt = x.dtype();
  const Tensor wt = weight_for(w, dt);
  const bool fused = e.bias.defined() && e.bias.dtype() == dt && (e.relu || !e.residual.defined()) &&
                     cudnn_conv_bias_act_forward(x, wt, e.bias, e.residual, e.relu, s, y);
  if (!fused) {
    conv2d_forward(x, wt, s, y);
    if (e.bias.defined() || e.residual.defined() || e.relu) {
      with_activation_type(dt, "conv2d (epilogue)", [&](auto zero) {
        using T = decltype(zero);
        const int64_t n = y.numel();
        const T* residual = e.residual.defined() ? e.residual.data<T>() : nullptr;
        if (!e.bias.defined() || e.bias.dtype() == DType::F32)
          apply_epilogue<T, float><<<grid_for(n), kThreads, 0, stream(device)>>>(
              y.data<T>(), e.bias.defined() ? e.bias.data<float>() : nullptr, residual, e.relu, s.o, n);
        else
          apply_epilogue<T, T><<<grid_for(n), kThreads, 0, stream(device)>>>(y.data<T>(), e.bias.data<T>(), residual,
                                                                             e.relu, s.o, n);
        PIX_CUDA_CHECK_LAUNCH("conv2d (epilogue)");
      });
    }
  }
  if (e.mean.defined()) {
    Tensor mean = e.mean;  // shares e.mean's memory: the caller's tensor is written
    global_avg_pool_forward_into(y, mean);
  }
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor* dx, Tensor& dw,
                     GradWrite dx_write) {
  const int device = x.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  const DType dt = x.dtype();
  const Tensor wt = weight_for(w, dt);
  const bool overwrite = dx_write == GradWrite::Overwrite;
  const bool need_dw = !weight_gradient_on_cudnn(x, dy, s, dw, st);
  if (dx && cudnn_conv_backward_data(wt, dy, s, *dx, overwrite)) dx = nullptr;
  if (!need_dw && !dx) return;
  // The chunk must hold the columns (dtype of x) and, for dx, the f32 column gradients.
  const Lowering l = lowering_for(s, dtype_size(dt) + (dx ? sizeof(float) : 0));
  Tensor cols, dcols;
  if (!l.direct) {
    if (need_dw) cols = Tensor::empty({l.images_per_chunk * s.p * s.q, l.k}, dt, x.device());
    if (dx) dcols = Tensor::empty({l.images_per_chunk * s.p * s.q, l.k}, DType::F32, x.device());
  }
  with_activation_type(dt, "conv2d_backward", [&](auto zero) {
    using T = decltype(zero);
    for (int64_t n0 = 0; n0 < s.n; n0 += l.images_per_chunk) {
      const int64_t count = std::min(l.images_per_chunk, s.n - n0);
      const int64_t rows = count * s.p * s.q;
      const T* dys = dy.data<T>() + n0 * s.p * s.q * s.o;
      const T* a = x.data<T>() + (l.direct ? n0 * s.h * s.w * s.c : 0);
      if (!l.direct && need_dw) {
        fill_columns<T>(x, s, l, n0, count, cols, st);
        a = cols.data<T>();
      }
      if (need_dw) {
        GemmParams gw;  // dw (O,K) += dy^T (O,rows) * cols (rows,K)
        gw.trans_a = true;
        gw.m = s.o, gw.n = l.k, gw.k = rows, gw.lda = s.o, gw.ldb = l.k, gw.ldc = l.k, gw.beta = 1.f;
        gemm(device, gw, dt, dys, a, DType::F32, dw.raw_data());
      }
      if (!dx) continue;
      GemmParams gx;  // dcols (rows,K) = dy (rows,O) * w (O,K)
      gx.m = rows, gx.n = l.k, gx.k = s.o, gx.lda = s.o, gx.ldb = l.k, gx.ldc = l.k;
      if (l.direct) {
        gx.beta = overwrite ? 0.f : 1.f;
        gemm(device, gx, dt, dys, wt.raw_data(), dt, dx->data<T>() + n0 * s.h * s.w * s.c);
        continue;
      }
      gemm(device, gx, dt, dys, wt.raw_data(), DType::F32, dcols.raw_data());
      col2im<T><<<grid_for(count * s.h * s.w * s.c), kThreads, 0, st>>>(dcols.data<float>(), dx->data<T>(), s, n0,
                                                                       count, overwrite);
      PIX_CUDA_CHECK_LAUNCH("conv2d_backward (col2im)");
    }
  });
}

}  // namespace pix::cuda
