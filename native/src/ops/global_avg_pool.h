// Global average pooling: x (N,H,W,C) -> y (N,C), the mean over all pixels; the PiX gate's
// squeeze and the network head both use it.
#pragma once

#include "core/tensor.h"

namespace pix {

Tensor global_avg_pool_forward(const Tensor& x);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);  // dx (N,H,W,C) += dy / (H*W)

}  // namespace pix
