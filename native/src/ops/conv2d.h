// 2-D convolution on NHWC activations. Training convolutions have no bias (ResNet convs are
// followed by BatchNorm; the classifier's bias lives in linear.h); inference with BatchNorm folded
// into the weights ends in an epilogue: y = relu?(conv(x) + bias[o] (+ residual)), written once.
//
// x (N,H,W,C) -> y (N,P,Q,O) with P = (H + 2*pad - KH)/stride + 1, Q likewise;
// w (O,KH,KW,C), "OHWI": the engine's weight layout. Checkpoints hold PyTorch's OIHW and are
// permuted on load/save (nn/state_dict.cpp).
// dtypes: w and dw are f32. x, y, dx, dy are f32 on the CPU; f32 or bf16 on CUDA, where bf16
// rounds w to bf16 too and sums the products in f32 (on cuDNN, a bf16 convolution's weight gradient
// is rounded to bf16 before dw sums it, as under PyTorch's autocast).
#pragma once

#include "core/tensor.h"
#include "ops/gemm.h"
#include "ops/grad_write.h"

namespace pix {

struct ConvParams {
  int kernel = 1;  // square kernels: KH = KW = kernel
  int stride = 1;
  int pad = 0;
};

struct ConvShape {
  int64_t n, h, w, c;  // input
  int64_t p, q, o;     // output
  int kernel;
  int stride, pad;
};
ConvShape conv_shape(const Tensor& x, const Tensor& w, const ConvParams& params);  // validates

// The epilogue, each part only where set: bias (O) f32 (on CUDA, or in x's dtype, as cuDNN's fused
// call takes it); residual shaped like y (N,P,Q,O), in y's dtype, not sharing y's memory; then
// ReLU; and mean (N,O) f32, overwritten with y's global average pool per image (for a PiX gate or
// the head). The CPU's fast path applies it in the SGEMM as each tile of y is stored (ops/gemm.h);
// CUDA in cuDNN's fused call where it runs, else in a pass after the convolution
// (ops/cuda/conv2d.cu).
// packed_weights: w's SGEMM panels kept between calls while w does not change (inference), used by
// the CPU's SGEMM path.
struct ConvEpilogue {
  Tensor bias;
  Tensor residual;
  bool relu = false;
  Tensor mean;
  GemmPackedB* packed_weights = nullptr;
};

// Which implementation runs. Fast: the engine's pick; on the CPU, Winograd F(4x4,3x3) for the 3x3
// stride-1 pad-1 convolutions where it pays in fp32 (ops/cpu/conv2d_winograd.h; PIX_CONV_WINOGRAD=0
// turns it off), else Gemm; on CUDA, cuDNN where it loads (ops/cuda/conv2d_cudnn.h), else im2col +
// cuda::gemm. Gemm: the CPU's SGEMM over windows of x (implicit GEMM; backward: im2col + SGEMM).
// Winograd: the CPU's Winograd for any 3x3 stride-1 pad-1 convolution (forward, dx and dw), in fp32
// whatever the CPU precision. Reference: the direct CPU loop every fast path is tested against.
enum class ConvKernel { Fast, Reference, Gemm, Winograd };

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const ConvParams& params, ConvKernel kernel = ConvKernel::Fast);
// The same with an epilogue.
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const ConvParams& params, const ConvEpilogue& epilogue,
                      ConvKernel kernel = ConvKernel::Fast);

// Writes dx as dx_write says (dx may be undefined: skipped); accumulates dw.
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvParams& params, Tensor& dx,
                     Tensor& dw, ConvKernel kernel = ConvKernel::Fast, GradWrite dx_write = GradWrite::Accumulate);

namespace cpu {
// kernel: Fast, Gemm or Winograd.
void conv2d_forward(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue, Tensor& y,
                    ConvKernel kernel = ConvKernel::Fast);
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor* dx, Tensor& dw,
                     GradWrite dx_write, ConvKernel kernel = ConvKernel::Fast);
void conv2d_forward_reference(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue,
                              Tensor& y);
void conv2d_backward_reference(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor* dx,
                               Tensor& dw);
}  // namespace cpu

namespace cuda {
void conv2d_forward(const Tensor& x, const Tensor& w, const ConvShape& s, Tensor& y);
void conv2d_forward(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue, Tensor& y);
void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor* dx, Tensor& dw,
                     GradWrite dx_write);
}  // namespace cuda

}  // namespace pix
