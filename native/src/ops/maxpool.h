// Max pooling over NHWC activations (the ResNet stem's 3x3, stride 2, pad 1). Padding never wins:
// windows consider only real pixels. The backward sends each output's gradient to the first
// maximum of its window in (kh, kw) scan order, as PyTorch's CPU kernel does; it recomputes the
// argmax from x instead of storing indices.
// x (N,H,W,C) -> y (N,P,Q,C); f32 on the CPU, f32 or bf16 on CUDA.
#pragma once

#include "core/tensor.h"

namespace pix {

struct PoolParams {
  int kernel = 3;
  int stride = 2;
  int pad = 1;
};

Tensor maxpool_forward(const Tensor& x, const PoolParams& params);
// dx overwritten (its one producer is the stem): no zero-fill pass beforehand.
void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx);

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor maxpool_forward(const Tensor& x, const PoolParams& params);
void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx);
}  // namespace cpu
namespace cuda {
Tensor maxpool_forward(const Tensor& x, const PoolParams& params);
void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx);
}  // namespace cuda

}  // namespace pix
