// BatchNorm dispatcher: shape, dtype and device checks in the caller's terms, then the backend.
#include "ops/batchnorm.h"

#include "core/cuda_dispatch.h"
#include "ops/device_check.h"

namespace pix {
namespace {

// x is (..., C) and every per-channel tensor is f32 (C) on x's device.
void check_args(const char* op, const Tensor& x, std::initializer_list<NamedTensor> per_channel) {
  PIX_CHECK(x.defined() && x.dim() >= 2, op, ": x must be (..., C), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  PIX_CHECK(x.numel() > 0, op, ": x is empty");
  check_activation_dtype(op, "x", x);
  const int64_t c = x.size(-1);
  for (const NamedTensor& t : per_channel) {
    check_f32(op, t.first, *t.second);
    PIX_CHECK(t.second->shape() == Shape({c}), op, ": ", t.first, " must be (", c, "), got ",
              shape_str(t.second->shape()));
  }
  check_same_device(op, {"x", &x}, per_channel);
}

}  // namespace

Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved) {
  check_args("batchnorm", x, {{"gamma", &gamma}, {"beta", &beta}, {"running_mean", &running_mean},
                              {"running_var", &running_var}});
  PIX_CHECK(x.numel() / x.size(-1) > 1, "batchnorm: training needs more than one value per channel (got input ",
            shape_str(x.shape()), "); use a larger batch or evaluation mode");
  if (x.device().is_cpu()) return cpu::batchnorm_forward_train(x, gamma, beta, running_mean, running_var, params, saved);
  PIX_CUDA_CALL(return cuda::batchnorm_forward_train(x, gamma, beta, running_mean, running_var, params, saved));
}

Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params) {
  check_args("batchnorm", x, {{"gamma", &gamma}, {"beta", &beta}, {"running_mean", &running_mean},
                              {"running_var", &running_var}});
  if (x.device().is_cpu()) return cpu::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, params);
  PIX_CUDA_CALL(return cuda::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, params));
}

void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write) {
  const char* op = "batchnorm_backward";
  PIX_CHECK(saved.mean.defined() && saved.invstd.defined(), op,
            ": needs the statistics saved by a training forward");
  check_args(op, x, {{"gamma", &gamma}, {"dgamma", &dgamma}, {"dbeta", &dbeta}, {"saved mean", &saved.mean},
                     {"saved invstd", &saved.invstd}});
  PIX_CHECK(dy.defined() && dy.shape() == x.shape() && dy.dtype() == x.dtype(), op,
            ": dy must have x's shape and dtype");
  PIX_CHECK(!params.relu || (y.defined() && y.shape() == x.shape() && y.dtype() == x.dtype()), op,
            ": the fused ReLU needs the forward output y, with x's shape and dtype");
  PIX_CHECK(!dx.defined() || (dx.shape() == x.shape() && dx.dtype() == x.dtype()), op,
            ": dx must have x's shape and dtype");
  check_same_device(op, {"x", &x}, {{"y", &y}, {"dy", &dy}, {"dx", &dx}});
  if (x.device().is_cpu())
    return cpu::batchnorm_backward(x, y, dy, gamma, saved, params, dx, dgamma, dbeta, dx_write);
  PIX_CUDA_CALL(cuda::batchnorm_backward(x, y, dy, gamma, saved, params, dx, dgamma, dbeta, dx_write));
}

}  // namespace pix
