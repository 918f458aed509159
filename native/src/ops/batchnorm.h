// BatchNorm over NHWC activations (statistics per channel across N*H*W), with an optional fused
// ReLU after it (conv -> BN -> ReLU is the common case in ResNets).
//
// x, y (N,H,W,C) or any (..., C); gamma, beta, running_mean, running_var, mean, invstd (C).
// x, y, dx, dy are f32 on the CPU, f32 or bf16 on CUDA; everything per channel is f32, and the
// statistics are summed in double on both backends (the CPU backward adds blocks of 32 rows summed
// in f32).
// Training normalises with the batch's biased variance and moves the running statistics toward
// the batch's mean and unbiased variance (PyTorch semantics); evaluation uses running statistics.
#pragma once

#include "core/tensor.h"
#include "ops/grad_write.h"

namespace pix {

struct BatchNormParams {
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool relu = false;  // y = max(0, bn(x))
};

// What the training forward saves for the backward.
struct BatchNormSaved {
  Tensor mean, invstd;  // (C)
  Tensor group_rows;    // synchronised: the rows of every rank together, on the device (see batchnorm.cu)
};

// SyncBatchNorm (PyTorch's nn.SyncBatchNorm, CUDA with NCCL only, as there): while a scope names
// one on the calling thread, training BatchNorm on CUDA normalises with the statistics of every
// rank's batch together, and its backward sums the two per-channel gradient reductions over the
// ranks, so that N ranks of batch B compute what one process of batch N*B does. Each layer's
// parameter gradients stay the rank's own (data parallelism averages them afterwards), as in
// PyTorch. The group's sums run on the engine's stream, between the layer's kernels.
class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Sums an f32 tensor of the activations' device over the ranks, in place, queued on its stream.
  virtual void all_reduce_sum(const Tensor& values) = 0;
};

// Names `sync` (may be null: per-process statistics) for BatchNorm on this thread until destroyed.
class BatchNormSyncScope {
 public:
  explicit BatchNormSyncScope(BatchNormSync* sync);
  ~BatchNormSyncScope();
  BatchNormSyncScope(const BatchNormSyncScope&) = delete;
  BatchNormSyncScope& operator=(const BatchNormSyncScope&) = delete;

 private:
  BatchNormSync* previous_;
};

// A bottleneck's residual join, fused into its last BatchNorm: y = max(0, bn(x) + residual) (with
// params.relu false: the join's ReLU is implied), and with `mean`, y's global average pool (N,C) as
// add_relu_forward gives it. CUDA writes y in the pass that normalises, where BatchNorm then
// add_relu would write and read bn(x) once more; the CPU composes the two ops.
struct BatchNormJoin {
  Tensor residual;  // shaped like x, in x's dtype; undefined: no join
  Tensor* mean = nullptr;
};

Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved,
                               const BatchNormJoin& join = {});
Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params, const BatchNormJoin& join = {});

// Backward of the training forward. y is the forward's output (needed only with the fused ReLU or
// a join). Writes dx as dx_write says (dx may be undefined: skipped); accumulates dgamma and dbeta.
// After a join, dresidual (non-null) receives the join's gradient for the shortcut, g = dy where
// y > 0, as dresidual_write says; g also flows through the BatchNorm.
void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write = GradWrite::Accumulate, Tensor* dresidual = nullptr,
                        GradWrite dresidual_write = GradWrite::Overwrite);

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved);
Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params);
void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write);
}  // namespace cpu
namespace cuda {  // with the join fused (the CPU's is composed by the dispatcher); sync may be null
Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved,
                               const BatchNormJoin& join, BatchNormSync* sync);
Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params, const BatchNormJoin& join);
void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write, Tensor* dresidual, GradWrite dresidual_write,
                        BatchNormSync* sync);
}  // namespace cuda

}  // namespace pix
