// dropout dispatcher: argument checks, then the backend.
#include "ops/dropout.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {

Tensor dropout_forward(const Tensor& x, float p, uint64_t seed, Tensor& mask) {
  PIX_CHECK(p >= 0.f && p < 1.f, "dropout: p must be in [0, 1), got ", p);
  check_f32("dropout", "x", x);
  if (x.device().is_cpu()) return cpu::dropout_forward(x, p, seed, mask);
  PIX_CUDA_CALL(return cuda::dropout_forward(x, p, seed, mask));
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  const char* op = "dropout_backward";
  check_f32(op, "dy", dy);
  check_f32(op, "mask", mask);
  check_f32(op, "dx", dx);
  PIX_CHECK(dy.shape() == mask.shape() && dx.shape() == mask.shape(), op, ": dy ", shape_str(dy.shape()), ", mask ",
            shape_str(mask.shape()), " and dx ", shape_str(dx.shape()), " must have one shape");
  check_same_device(op, {"dy", &dy}, {{"mask", &mask}, {"dx", &dx}});
  if (dy.device().is_cpu()) return cpu::dropout_backward(dy, mask, dx);
  PIX_CUDA_CALL(cuda::dropout_backward(dy, mask, dx));
}

}  // namespace pix
