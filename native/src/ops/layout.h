// Layout conversion between PyTorch's NCHW and the engine's NHWC (model inputs come in NCHW).
#pragma once

#include "core/tensor.h"

namespace pix {

Tensor nchw_to_nhwc(const Tensor& x);  // (N,C,H,W) -> (N,H,W,C)
Tensor nhwc_to_nchw(const Tensor& x);  // (N,H,W,C) -> (N,C,H,W)

}  // namespace pix
