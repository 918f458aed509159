// Global average pooling: x (N,H,W,C) -> y (N,C), the mean over all pixels; the PiX gate's
// squeeze and the network head both use it. x and dx are f32 (CUDA: or bf16); y and dy are
// always f32, so everything after the pooling (gate, classifier) computes in f32.
#pragma once

#include "core/tensor.h"

namespace pix {

Tensor global_avg_pool_forward(const Tensor& x);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);  // dx (N,H,W,C) += dy / (H*W)

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor global_avg_pool_forward(const Tensor& x);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);
}  // namespace cpu
namespace cuda {
Tensor global_avg_pool_forward(const Tensor& x);
void global_avg_pool_forward_into(const Tensor& x, Tensor& y);  // y (N,C) f32, already made (a conv epilogue's mean)
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);
}  // namespace cuda

}  // namespace pix
