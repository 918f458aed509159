// sigmoid dispatcher: dtype, shape and device checks, then the backend.
#include "ops/sigmoid.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {

Tensor sigmoid_forward(const Tensor& z) {
  check_f32("sigmoid", "z", z);
  if (z.device().is_cpu()) return cpu::sigmoid_forward(z);
  PIX_CUDA_CALL(return cuda::sigmoid_forward(z));
}

Tensor sigmoid_backward(const Tensor& p, const Tensor& dp) {
  check_f32("sigmoid_backward", "p", p);
  check_f32("sigmoid_backward", "dp", dp);
  PIX_CHECK(p.shape() == dp.shape(), "sigmoid_backward: dp ", shape_str(dp.shape()), " must have p's shape ",
            shape_str(p.shape()));
  check_same_device("sigmoid_backward", {"p", &p}, {{"dp", &dp}});
  if (p.device().is_cpu()) return cpu::sigmoid_backward(p, dp);
  PIX_CUDA_CALL(return cuda::sigmoid_backward(p, dp));
}

}  // namespace pix
