// Winograd F(4x4, 3x3) convolution on the CPU, for 3x3 stride-1 pad-1 convolutions (ops/conv2d.h):
// y = A^T [ (G g G^T) (.) (B^T d B) ] A on 6x6 input tiles that overlap by 2, each giving 4x4 outputs.
// The 36 products of a tile, summed over input channels, are 36 matrix products (tiles x C times
// C x O): 2.25x fewer multiply-adds than the direct convolution's 9 per output. The weight gradient
// sums the adjoint over tiles: 36 products (O x tiles times tiles x C), 4x fewer than im2col's.
// Internal to ops/cpu/conv2d.cpp, which picks it (cpu::winograd_preferred) and falls back to the
// implicit GEMM for every other convolution.
#pragma once

#include "ops/conv2d.h"

namespace pix::cpu {

// Whether s is a convolution this file computes: 3x3, stride 1, pad 1.
bool winograd_applies(const ConvShape& s);

// Whether ConvKernel::Fast computes s here: it applies, the CPU precision is fp32 (BF16 products
// stay on the SGEMM, whose rounding of x and w is the documented approximation), PIX_CONV_WINOGRAD
// is not 0, and the shape is one where Winograd was measured faster than the implicit GEMM: at least
// 8 input and 8 output channels, and at least half of the 4x4 output tiles' pixels inside the image.
bool winograd_preferred(const ConvShape& s);

// y = conv(x, w) with the epilogue (bias, residual, ReLU, per-image mean), as cpu::conv2d_forward.
void conv2d_forward_winograd(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue,
                             Tensor& y);

// dx (=, or += with GradWrite::Accumulate) the input gradient of a 3x3 stride-1 pad-1 convolution:
// itself a 3x3 stride-1 pad-1 convolution of dy with w flipped in space and transposed (O <-> C).
void conv2d_backward_data_winograd(const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor& dx,
                                   GradWrite write);

// dw += the weight gradient of a 3x3 stride-1 pad-1 convolution (conv2d_winograd_weight.cpp): per
// output tile, G^T [ (A e A^T) (.) (B^T d B) ] G, its 36 sums over tiles as 36 matrix products.
void conv2d_backward_weight_winograd(const Tensor& x, const Tensor& dy, const ConvShape& s, Tensor& dw);

}  // namespace pix::cpu
