// The residual join of a bottleneck: y = max(0, a + b), and its backward.
// a, b, y: any shape (all equal); f32 on the CPU, f32 or bf16 on CUDA (computed in f32).
#pragma once

#include "core/tensor.h"
#include "ops/grad_write.h"

namespace pix {

Tensor add_relu_forward(const Tensor& a, const Tensor& b);
// g = dy where y > 0, else 0, written into da and db (either may be undefined) as their modes say.
void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write);

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor add_relu_forward(const Tensor& a, const Tensor& b);
void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write);
}  // namespace cpu
namespace cuda {
Tensor add_relu_forward(const Tensor& a, const Tensor& b);
void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write);
}  // namespace cuda

}  // namespace pix
