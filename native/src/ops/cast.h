// Casts between floating dtypes (f32, f64, bf16) on the tensor's own device. bf16 rounds to
// nearest even, like PyTorch's .to(torch.bfloat16).
#pragma once

#include "core/tensor.h"

namespace pix {

Tensor cast(const Tensor& x, DType dtype);

namespace cpu {
void cast(const Tensor& x, Tensor& y);
}
namespace cuda {
void cast(const Tensor& x, Tensor& y);
}

}  // namespace pix
