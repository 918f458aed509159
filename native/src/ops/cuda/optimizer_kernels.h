// The optimizers' and the EMA's element math on CUDA tensors, called by nn/optimizer.cpp and
// nn/ema.cpp for parameters that live on a device: multi-tensor launches, each kernel covering up to
// 24 parameters at once (ResNet-50's 161 parameters take 7 launches a kernel, about 40 for a whole
// LAMB step, where a launch per parameter made it about 800). The scalars are the
// ones the CPU loops use, already rounded to f32 the same way, and the formulas are the CPU's, in
// its order of operations. Norms are summed in double over a fixed number of blocks per tensor, the
// partials added in block order and the tensors in parameter order, so every result repeats.
// The gradient norm stays on the device (GradNormState): clipping and LAMB read it there, and the
// host reads it once, after the whole step is queued, instead of stalling the device before it.
// Plain C++ (no CUDA headers). Pointers are device pointers on `device`.
#pragma once

#include <cstdint>
#include <vector>

namespace pix::cuda {

// One tensor of a multi-tensor launch: x is updated in place from y and the slots a and b (null
// where the kernel has no use for them); per_tensor is its own scalar (see each kernel).
struct TensorSlots {
  float* x = nullptr;
  const float* y = nullptr;
  float* a = nullptr;
  float* b = nullptr;
  int64_t n = 0;
  float per_tensor = 0;
};

// The step's gradient norm, written by grad_norm into device memory.
struct GradNormState {
  double norm;       // sqrt of every gradient's sum of squares, the parameters in order
  double current;    // the norm after clip_grad_norm_'s scaling (norm * coef where coef < 1)
  float grad_scale;  // clip_grad_norm_'s factor, 1 where it does not clip
  float lamb_clip;   // LAMB's divisor: current / max_grad_norm where current is above it, else 1
};

// *state from the gradients {x = g, n}: torch.nn.utils.clip_grad_norm_(max_norm = clip_grad)'s
// norm and coefficient (clip_grad 0: none), and LAMB's divisor for max_grad_norm. No host wait.
void grad_norm(int device, const std::vector<TensorSlots>& grads, double clip_grad, double max_grad_norm,
               GradNormState* state);
// g *= state->grad_scale for every {x = g, n}.
void scale_gradients(int device, const std::vector<TensorSlots>& grads, const GradNormState* state);

// torch SGD, {x = w, y = g, a = momentum buffer or null, per_tensor = wd}:
// d = g + wd*w; b = mu*b + d; w += neg_lr * (kd*d + kb*b); without a buffer, w += neg_lr*d.
struct SgdScalars {
  float neg_lr, mu, kd, kb;
};
void sgd_update(int device, const SgdScalars& s, const std::vector<TensorSlots>& params);

// torch AdamW (single tensor), {x = w, y = g, a = m, b = v, per_tensor = decay 1 - lr*wd}:
// m, v moments; w = w*decay + neg_step * m / (sqrt(v)/bc2_sqrt + eps).
struct AdamScalars {
  float b1, c1, b2, c2, eps, neg_step, bc2_sqrt;
};
void adamw_update(int device, const AdamScalars& s, const std::vector<TensorSlots>& params);

// timm Lamb, {x = w, y = g, a = m, b = v, per_tensor = wd}: moments from g / state->lamb_clip, the
// direction u = (m/bc1)/(sqrt(v)/bc2_sqrt + eps) + wd*w, each tensor's trust ratio |w|/|u| (1 when
// wd is 0 or a norm is 0), then w += neg_lr * u * ratio.
struct LambScalars {
  float b1, c1, b2, c2, bc1, bc2_sqrt, eps, neg_lr;
};
void lamb_update(int device, const LambScalars& s, const std::vector<TensorSlots>& params, const GradNormState* state);

// timm ModelEma, {x = average, y = model value}: e = e*d + c*w.
void ema_update(int device, float d, float c, const std::vector<TensorSlots>& tensors);

// x = 0 for every {x, n}: the gradients of optimizer.zero_grad() in one launch per 24 tensors, where
// a memset per tensor cost a device operation each.
void zero_tensors(int device, const std::vector<TensorSlots>& tensors);

}  // namespace pix::cuda
