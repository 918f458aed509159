// global_avg_pool dispatcher: shape, dtype and device checks, then the backend.
#include "ops/global_avg_pool.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {

Tensor global_avg_pool_forward(const Tensor& x) {
  PIX_CHECK(x.defined() && x.dim() == 4, "global_avg_pool: x must be (N,H,W,C), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  PIX_CHECK(x.size(1) * x.size(2) > 0, "global_avg_pool: x has no pixels");
  check_activation_dtype("global_avg_pool", "x", x);
  if (x.device().is_cpu()) return cpu::global_avg_pool_forward(x);
  PIX_CUDA_CALL(return cuda::global_avg_pool_forward(x));
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const char* op = "global_avg_pool_backward";
  PIX_CHECK(dx.defined() && dx.dim() == 4 && dy.defined() && dy.shape() == Shape({dx.size(0), dx.size(3)}), op,
            ": dy ", dy.defined() ? shape_str(dy.shape()) : "undefined", " does not match dx ",
            dx.defined() ? shape_str(dx.shape()) : "undefined");
  check_f32(op, "dy", dy);
  check_activation_dtype(op, "dx", dx);
  check_same_device(op, {"dx", &dx}, {{"dy", &dy}});
  if (dx.device().is_cpu()) return cpu::global_avg_pool_backward(dy, dx);
  PIX_CUDA_CALL(cuda::global_avg_pool_backward(dy, dx));
}

}  // namespace pix
