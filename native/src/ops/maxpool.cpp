// maxpool dispatcher: dtype and device checks, then the backend (each checks its own shapes).
#include "ops/maxpool.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {
namespace {

void check_window(const char* op, const Tensor& x, const PoolParams& params) {
  PIX_CHECK(x.defined() && x.dim() == 4, op, ": x must be (N,H,W,C), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  PIX_CHECK(params.kernel >= 1 && params.stride >= 1 && params.pad >= 0, op,
            ": kernel and stride must be >= 1 and pad >= 0");
  PIX_CHECK(params.pad * 2 <= params.kernel, op, ": pad must be at most half the kernel");
  PIX_CHECK(x.size(1) + 2 * params.pad >= params.kernel && x.size(2) + 2 * params.pad >= params.kernel, op,
            ": input ", x.size(1), "x", x.size(2), " is smaller than the window");
  check_activation_dtype(op, "x", x);
}

}  // namespace

Tensor maxpool_forward(const Tensor& x, const PoolParams& params) {
  check_window("maxpool", x, params);
  if (x.device().is_cpu()) return cpu::maxpool_forward(x, params);
  PIX_CUDA_CALL(return cuda::maxpool_forward(x, params));
}

void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx) {
  const char* op = "maxpool_backward";
  check_window(op, x, params);
  const int64_t p = (x.size(1) + 2 * params.pad - params.kernel) / params.stride + 1;
  const int64_t q = (x.size(2) + 2 * params.pad - params.kernel) / params.stride + 1;
  const Shape out{x.size(0), p, q, x.size(3)};
  PIX_CHECK(dy.defined() && dy.shape() == out && dy.dtype() == x.dtype(), op, ": dy must be ", shape_str(out), " ",
            dtype_name(x.dtype()));
  PIX_CHECK(dx.defined() && dx.shape() == x.shape() && dx.dtype() == x.dtype(), op,
            ": dx must have x's shape and dtype");
  check_same_device(op, {"x", &x}, {{"dy", &dy}, {"dx", &dx}});
  if (x.device().is_cpu()) return cpu::maxpool_backward(x, dy, params, dx);
  PIX_CUDA_CALL(cuda::maxpool_backward(x, dy, params, dx));
}

}  // namespace pix
