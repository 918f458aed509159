// add_relu dispatcher: shape, dtype and device checks in the caller's terms, then the backend.
#include "ops/add_relu.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {

Tensor add_relu_forward(const Tensor& a, const Tensor& b, Tensor* mean) {
  PIX_CHECK(a.defined() && b.defined(), "add_relu: an input is undefined");
  PIX_CHECK(!mean || (a.dim() == 4 && a.size(1) * a.size(2) > 0), "add_relu: a mean needs (N,H,W,C) inputs, got ",
            shape_str(a.shape()));
  PIX_CHECK(a.shape() == b.shape(), "add_relu: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()), " differ");
  PIX_CHECK(a.dtype() == b.dtype(), "add_relu: dtypes ", dtype_name(a.dtype()), " and ", dtype_name(b.dtype()), " differ");
  check_same_device("add_relu", {"a", &a}, {{"b", &b}});
  check_activation_dtype("add_relu", "a", a);
  if (a.device().is_cpu()) return cpu::add_relu_forward(a, b, mean);
  PIX_CUDA_CALL(return cuda::add_relu_forward(a, b, mean));
}

void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write) {
  const char* op = "add_relu_backward";
  PIX_CHECK(y.defined() && dy.defined() && y.shape() == dy.shape(), op, ": dy must have y's shape");
  for (const NamedTensor& g : {NamedTensor{"da", &da}, NamedTensor{"db", &db}})
    PIX_CHECK(!g.second->defined() || (g.second->shape() == y.shape() && g.second->dtype() == y.dtype()), op, ": ",
              g.first, " must have y's shape and dtype");
  PIX_CHECK(dy.dtype() == y.dtype(), op, ": dy must have y's dtype");
  check_same_device(op, {"y", &y}, {{"dy", &dy}, {"da", &da}, {"db", &db}});
  check_activation_dtype(op, "y", y);
  if (y.device().is_cpu()) return cpu::add_relu_backward(y, dy, da, db, da_write, db_write);
  PIX_CUDA_CALL(cuda::add_relu_backward(y, dy, da, db, da_write, db_write));
}

}  // namespace pix
