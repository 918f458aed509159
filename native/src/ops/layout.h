// Layout conversion between PyTorch's NCHW and the engine's NHWC (model inputs come in NCHW).
// f32 on the CPU, f32 or bf16 on CUDA; the result stays on the input's device.
#pragma once

#include "core/tensor.h"

namespace pix {

Tensor nchw_to_nhwc(const Tensor& x);  // (N,C,H,W) -> (N,H,W,C)
Tensor nhwc_to_nchw(const Tensor& x);  // (N,H,W,C) -> (N,C,H,W)

// ---- backends: out[n][b][a] = in[n][a][b] for each image's (A,B) plane ----
namespace cpu {
Tensor transpose_planes(const Tensor& x, int64_t a, int64_t b, const Shape& out_shape);
}
namespace cuda {
Tensor transpose_planes(const Tensor& x, int64_t a, int64_t b, const Shape& out_shape);
}

}  // namespace pix
