// BatchNorm dispatcher: shape, dtype and device checks in the caller's terms, then the backend.
#include "ops/batchnorm.h"

#include "core/cuda_dispatch.h"
#include "ops/add_relu.h"
#include "ops/device_check.h"

namespace pix {
namespace {

thread_local BatchNormSync* current_sync = nullptr;

// The scope's group, refused where it cannot work: on the CPU (PyTorch's SyncBatchNorm is CUDA's too).
BatchNormSync* sync_for(const char* op, const Tensor& x) {
  PIX_CHECK(!current_sync || x.device().is_cuda(), op, ": synchronised BatchNorm (SyncBatchNorm) needs CUDA and ",
            "NCCL; this model is on ", x.device().str());
  return current_sync;
}

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

void check_join(const char* op, const Tensor& x, const BatchNormParams& params, const BatchNormJoin& join) {
  if (!join.residual.defined()) {
    PIX_CHECK(!join.mean, op, ": a mean is taken only with a residual join");
    return;
  }
  PIX_CHECK(!params.relu, op, ": a residual join has its own ReLU; params.relu must be false");
  PIX_CHECK(join.residual.shape() == x.shape() && join.residual.dtype() == x.dtype(), op, ": the residual must be ",
            dtype_name(x.dtype()), " ", shape_str(x.shape()), " like x, got ", dtype_name(join.residual.dtype()), " ",
            shape_str(join.residual.shape()));
  PIX_CHECK(!join.mean || x.dim() == 4, op, ": a mean needs (N,H,W,C) inputs, got ", shape_str(x.shape()));
  check_same_device(op, {"x", &x}, {{"residual", &join.residual}});
}

}  // namespace

BatchNormSyncScope::BatchNormSyncScope(BatchNormSync* sync) : previous_(current_sync) { current_sync = sync; }
BatchNormSyncScope::~BatchNormSyncScope() { current_sync = previous_; }

Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved,
                               const BatchNormJoin& join) {
  check_args("batchnorm", x, {{"gamma", &gamma}, {"beta", &beta}, {"running_mean", &running_mean},
                              {"running_var", &running_var}});
  check_join("batchnorm", x, params, join);
  PIX_CHECK(x.numel() / x.size(-1) > 1, "batchnorm: training needs more than one value per channel (got input ",
            shape_str(x.shape()), "); use a larger batch or evaluation mode");
  BatchNormSync* sync = sync_for("batchnorm", x);
  if (!x.device().is_cpu())
    PIX_CUDA_CALL(return cuda::batchnorm_forward_train(x, gamma, beta, running_mean, running_var, params, saved, join, sync));
  const Tensor y = cpu::batchnorm_forward_train(x, gamma, beta, running_mean, running_var, params, saved);
  return join.residual.defined() ? cpu::add_relu_forward(y, join.residual, join.mean) : y;
}

Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params, const BatchNormJoin& join) {
  check_args("batchnorm", x, {{"gamma", &gamma}, {"beta", &beta}, {"running_mean", &running_mean},
                              {"running_var", &running_var}});
  check_join("batchnorm", x, params, join);
  if (!x.device().is_cpu())
    PIX_CUDA_CALL(return cuda::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, params, join));
  const Tensor y = cpu::batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, params);
  return join.residual.defined() ? cpu::add_relu_forward(y, join.residual, join.mean) : y;
}

void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write, Tensor* dresidual, GradWrite dresidual_write) {
  const char* op = "batchnorm_backward";
  PIX_CHECK(saved.mean.defined() && saved.invstd.defined(), op,
            ": needs the statistics saved by a training forward");
  check_args(op, x, {{"gamma", &gamma}, {"dgamma", &dgamma}, {"dbeta", &dbeta}, {"saved mean", &saved.mean},
                     {"saved invstd", &saved.invstd}});
  PIX_CHECK(dy.defined() && dy.shape() == x.shape() && dy.dtype() == x.dtype(), op,
            ": dy must have x's shape and dtype");
  PIX_CHECK(!(params.relu && dresidual), op, ": a residual join has its own ReLU; params.relu must be false");
  PIX_CHECK(!(params.relu || dresidual) || (y.defined() && y.shape() == x.shape() && y.dtype() == x.dtype()), op,
            ": the fused ReLU or join needs the forward output y, with x's shape and dtype");
  PIX_CHECK(!dresidual || (dresidual->shape() == x.shape() && dresidual->dtype() == x.dtype()), op,
            ": dresidual must have x's shape and dtype");
  PIX_CHECK(!dx.defined() || (dx.shape() == x.shape() && dx.dtype() == x.dtype()), op,
            ": dx must have x's shape and dtype");
  const Tensor no_residual;
  check_same_device(op, {"x", &x}, {{"y", &y}, {"dy", &dy}, {"dx", &dx}, {"dresidual", dresidual ? dresidual : &no_residual}});
  BatchNormSync* sync = sync_for(op, x);
  PIX_CHECK(!sync == !saved.group_rows.defined(), op, ": the forward was ", sync ? "not " : "",
            "synchronised over the ranks, the backward is", sync ? "" : " not");
  if (!x.device().is_cpu()) {
    PIX_CUDA_CALL(cuda::batchnorm_backward(x, y, dy, gamma, saved, params, dx, dgamma, dbeta, dx_write, dresidual,
                                           dresidual_write, sync));
    return;
  }
  if (dresidual) {  // the join's gradient to the shortcut; through the BatchNorm, masked by y like a fused ReLU
    Tensor none;
    cpu::add_relu_backward(y, dy, *dresidual, none, dresidual_write, GradWrite::Overwrite);
  }
  BatchNormParams masked = params;
  masked.relu = params.relu || dresidual;
  cpu::batchnorm_backward(x, y, dy, gamma, saved, masked, dx, dgamma, dbeta, dx_write);
}

}  // namespace pix
