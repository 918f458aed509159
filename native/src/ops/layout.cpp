// Layout dispatcher: NCHW <-> NHWC as a batched transpose of each image's planes, on x's device.
#include "ops/layout.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {
namespace {

Tensor transpose_planes(const char* op, const Tensor& x, int64_t a, int64_t b, const Shape& out_shape) {
  check_activation_dtype(op, "x", x);
  if (x.device().is_cpu()) return cpu::transpose_planes(x, a, b, out_shape);
  PIX_CUDA_CALL(return cuda::transpose_planes(x, a, b, out_shape));
}

}  // namespace

Tensor nchw_to_nhwc(const Tensor& x) {
  PIX_CHECK(x.defined() && x.dim() == 4, "nchw_to_nhwc: x must be (N,C,H,W), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  return transpose_planes("nchw_to_nhwc", x, x.size(1), x.size(2) * x.size(3),
                          {x.size(0), x.size(2), x.size(3), x.size(1)});
}

Tensor nhwc_to_nchw(const Tensor& x) {
  PIX_CHECK(x.defined() && x.dim() == 4, "nhwc_to_nchw: x must be (N,H,W,C), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  return transpose_planes("nhwc_to_nchw", x, x.size(1) * x.size(2), x.size(3),
                          {x.size(0), x.size(3), x.size(1), x.size(2)});
}

}  // namespace pix
