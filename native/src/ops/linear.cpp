// linear dispatcher: shape, dtype and device checks in the caller's terms, then the backend.
#include "ops/linear.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {
namespace {

void check_args(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_f32(op, "x", x);
  check_f32(op, "weight", w);
  PIX_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(1), op, ": x ", shape_str(x.shape()),
            " does not match weight ", shape_str(w.shape()));
  PIX_CHECK(!b.defined() || (b.dtype() == DType::F32 && b.shape() == Shape({w.size(0)})), op, ": bias must be f32 (",
            w.size(0), ")");
  check_same_device(op, {"x", &x}, {{"weight", &w}, {"bias", &b}});
}

}  // namespace

Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, GemmPackedB* packed_w) {
  check_args("linear", x, w, b);
  if (x.device().is_cpu()) return cpu::linear_forward(x, w, b, packed_w);
  PIX_CUDA_CALL(return cuda::linear_forward(x, w, b));
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db) {
  const char* op = "linear_backward";
  check_args(op, x, w, db);
  check_f32(op, "dy", dy);
  check_f32(op, "dw", dw);
  PIX_CHECK(dy.shape() == Shape({x.size(0), w.size(0)}), op, ": dy must be (", x.size(0), ",", w.size(0), "), got ",
            shape_str(dy.shape()));
  PIX_CHECK(dw.shape() == w.shape(), op, ": dw must have the weight's shape");
  PIX_CHECK(!dx.defined() || (dx.shape() == x.shape() && dx.dtype() == DType::F32), op, ": dx must be f32 like x");
  check_same_device(op, {"x", &x}, {{"dy", &dy}, {"dx", &dx}, {"dw", &dw}});
  if (x.device().is_cpu()) return cpu::linear_backward(x, w, dy, dx, dw, db);
  PIX_CUDA_CALL(cuda::linear_backward(x, w, dy, dx, dw, db));
}

}  // namespace pix
