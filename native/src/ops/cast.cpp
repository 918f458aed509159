#include "ops/cast.h"

#include "core/cuda_dispatch.h"
#include "core/error.h"

namespace pix {

Tensor cast(const Tensor& x, DType dtype) {
  PIX_CHECK(x.defined(), "cast: input is undefined");
  auto floating = [](DType d) { return d == DType::F32 || d == DType::F64 || d == DType::BF16; };
  PIX_CHECK(floating(x.dtype()) && floating(dtype), "cast: only f32, f64 and bf16 convert, not ",
            dtype_name(x.dtype()), " to ", dtype_name(dtype));
  if (x.dtype() == dtype) return x.to(x.device());
  Tensor y = Tensor::empty(x.shape(), dtype, x.device());
  if (x.numel() == 0) return y;
  if (x.device().is_cpu()) {
    cpu::cast(x, y);
  } else {
    PIX_CHECK(x.dtype() != DType::F64 && dtype != DType::F64, "cast: f64 is a CPU-only dtype");
    PIX_CUDA_CALL(cuda::cast(x, y));
  }
  return y;
}

}  // namespace pix
