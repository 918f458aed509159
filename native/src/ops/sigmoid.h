// The logistic sigmoid of the PiX gate, p = 1 / (1 + exp(-z)), and its backward
// dz = dp * p * (1 - p) from the saved output. f32 on either device; any shape.
// Not here: other activations (ReLU is fused into BatchNorm and add_relu).
#pragma once

#include "core/tensor.h"

namespace pix {

Tensor sigmoid_forward(const Tensor& z);
Tensor sigmoid_backward(const Tensor& p, const Tensor& dp);  // returns dz (fresh)

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor sigmoid_forward(const Tensor& z);
Tensor sigmoid_backward(const Tensor& p, const Tensor& dp);
}  // namespace cpu
namespace cuda {
Tensor sigmoid_forward(const Tensor& z);
Tensor sigmoid_backward(const Tensor& p, const Tensor& dp);
}  // namespace cuda

}  // namespace pix
