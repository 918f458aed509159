// Optimizers over one model's parameters, updating them in place from their accumulated gradients:
// SGD (momentum, Nesterov) and AdamW as in torch.optim, LAMB as timm's Lamb (SPEC §4). Parameters
// without weight decay (1-D: BatchNorm gamma/beta, and biases) follow the official parameter
// groups. Each optimizer keeps its per-parameter state ("slots", e.g. exp_avg) in the engine's
// layout and exports it under torch's names in PyTorch layouts for checkpoints. An optimizer is
// bound to one StateDict, which must outlive it. Updates run on the thread pool; norms are summed
// in double over fixed blocks, so every result is the same for any thread count.
// Parameters on a CUDA device update there (ops/cuda/optimizer_kernels.h: the same formulas in
// multi-tensor launches; norms summed in double too, in a different but fixed order), the whole
// step queued before the host reads its norm; slots live on their parameter's device.
// Not here: the schedules (the trainer passes lr and weight decay per step), amsgrad.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nn/state_dict.h"

namespace pix::cuda {
struct GradNormState;
struct TensorSlots;
}

namespace pix::nn {

// The official grouping: no weight decay for 1-D parameters and biases.
bool uses_weight_decay(const StateEntry& entry);

// Hyperparameters are doubles, like the Python floats torch computes its scalar coefficients from.
struct StepParams {
  double lr = 0;
  double weight_decay = 0;  // for the decay group; the no-decay group always gets 0
  double clip_grad = 0;     // > 0: torch.nn.utils.clip_grad_norm_(max_norm = clip_grad) first
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update from the accumulated gradients. Returns the global gradient L2 norm before any
  // clipping (computed on every step: the trainer logs it).
  double step(const StepParams& params);
  int64_t step_count() const { return steps_; }

  // "<slot>.<parameter key>" for every slot of every parameter (once created by the first step),
  // and "step" (an I64 scalar). Tensors are CPU copies in PyTorch layouts.
  NamedTensors export_state() const;
  // The inverse: takes every name export_state would give for the imported step count, no others.
  void import_state(const NamedTensors& state);

 protected:
  Optimizer(StateDict& state, std::vector<std::string> slot_names);
  // The global norm of the gradients as they are now (after any clip_grad): on the host for CPU
  // parameters, in device memory (device set, host unused) for CUDA ones.
  struct GradNorm {
    double host;
    const cuda::GradNormState* device;
  };
  // Applies one update; steps_ already counts it.
  virtual void update(double lr, double weight_decay, const GradNorm& norm) = 0;
  // LAMB's max_grad_norm, for the divisor the device computes with the norm; 0 for the others.
  virtual double max_grad_norm() const { return 0; }
  int device_index() const { return parameters_.empty() ? 0 : parameters_[0]->value().device().index; }
  // Every parameter for a multi-tensor launch: its value (a counted write), gradient, first two
  // slots (null where the optimizer keeps fewer) and per_tensor's scalar for it.
  std::vector<cuda::TensorSlots> device_parameters(const std::function<float(const StateEntry&)>& per_tensor);
  // Parameter i's slot s, zero-filled on first use.
  float* slot(size_t s, size_t i);

  std::vector<StateEntry*> parameters_;

 private:
  std::vector<std::string> slot_names_;
  double step_on_device(const StepParams& params, Device device);

  std::vector<std::vector<Tensor>> slots_;  // [slot][parameter]; undefined until first used
  int64_t steps_ = 0;
};

struct SgdParams {
  double momentum = 0.9;
  bool nesterov = false;
};

// torch.optim.SGD (dampening 0): d = g + wd*w; b = d on the first step, else mu*b + d;
// w -= lr * (nesterov ? d + mu*b : b). Momentum 0 keeps no state, like torch.
class Sgd : public Optimizer {
 public:
  Sgd(StateDict& state, SgdParams params);

 private:
  void update(double lr, double weight_decay, const GradNorm& norm) override;
  SgdParams config_;
};

struct AdamParams {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// torch.optim.AdamW: w *= 1 - lr*wd; m, v moments; w -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
class AdamW : public Optimizer {
 public:
  AdamW(StateDict& state, AdamParams params);

 private:
  void update(double lr, double weight_decay, const GradNorm& norm) override;
  AdamParams config_;
};

// timm's Lamb with its defaults (bias correction, grad averaging, no trust clipping, adapt only
// with weight decay): gradients divided by max(1, global norm / max_grad_norm);
// u = (m/bc1) / (sqrt(v)/sqrt(bc2) + eps); with wd != 0: u += wd*w, u *= |w|/|u| (1 if either is 0);
// w -= lr*u.
class Lamb : public Optimizer {
 public:
  Lamb(StateDict& state, AdamParams params, double max_grad_norm = 1.0);

 private:
  void update(double lr, double weight_decay, const GradNorm& norm) override;
  double max_grad_norm() const override { return max_grad_norm_; }
  AdamParams config_;
  double max_grad_norm_;
};

}  // namespace pix::nn
