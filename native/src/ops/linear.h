// Fully connected layer on pooled features: y (N,O) = x (N,C) * w^T + b, w (O,C), b (O) optional.
// The classifier (a 1x1 conv with bias on a 1x1 map) and the PiX gate's conv_sqz (no bias) are
// both this op. f32 on either device; CUDA runs cuda::gemm (ops/cuda/gemm.h).
#pragma once

#include "core/tensor.h"
#include "ops/gemm.h"

namespace pix {

// b may be undefined. packed_w: w's SGEMM panels kept between calls (GemmPackedB, tracking w), on the CPU.
Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, GemmPackedB* packed_w = nullptr);
// Accumulates dx (may be undefined), dw, db (may be undefined).
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db);

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, GemmPackedB* packed_w);
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db);
}  // namespace cpu
namespace cuda {
Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b);
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db);
}  // namespace cuda

}  // namespace pix
