// The residual join of a bottleneck: y = max(0, a + b), and its backward.
// a, b, y: any shape (all equal); f32 on the CPU, f32 or bf16 on CUDA (computed in f32).
// With `mean` (a, b NHWC): also y's global average pool (N, C) f32, as global_avg_pool_forward
// would give it from the stored y, taken on CUDA in the same pass that writes y: the next block's
// PiX gate, or the head, then needs no pass of its own over y.
#pragma once

#include "core/tensor.h"
#include "ops/grad_write.h"

namespace pix {

Tensor add_relu_forward(const Tensor& a, const Tensor& b, Tensor* mean = nullptr);
// g = dy where y > 0, else 0, written into da and db (either may be undefined) as their modes say.
void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write);

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor add_relu_forward(const Tensor& a, const Tensor& b, Tensor* mean);
void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write);
}  // namespace cpu
namespace cuda {
Tensor add_relu_forward(const Tensor& a, const Tensor& b, Tensor* mean);
void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write);
}  // namespace cuda

}  // namespace pix
