// Dropout2d on pooled features x (N,C): each (sample, channel) is zeroed with probability p and
// survivors are scaled by 1/(1-p). After the head's global pooling a channel is one value, so this
// is exactly PyTorch's Dropout2d on (N,C,1,1). The mask comes from a counter-based hash of
// (seed, index): reproducible, independent of threads, and the same on the CPU and CUDA. f32 only.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pix {

// Returns y; mask (N,C) receives the per-element scale (0 or 1/(1-p)) for the backward.
Tensor dropout_forward(const Tensor& x, float p, uint64_t seed, Tensor& mask);
void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);  // accumulates

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor dropout_forward(const Tensor& x, float p, uint64_t seed, Tensor& mask);
void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);
}  // namespace cpu
namespace cuda {
Tensor dropout_forward(const Tensor& x, float p, uint64_t seed, Tensor& mask);
void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);
}  // namespace cuda

}  // namespace pix
