// The optimizers' and the EMA's element math on CUDA tensors (per-tensor kernels), called by
// nn/optimizer.cpp and nn/ema.cpp for parameters that live on a device. The scalars are the ones
// the CPU loops use, already rounded to f32 the same way, and the formulas are the CPU's, in its
// order of operations. Plain C++ (no CUDA headers). Pointers are device pointers on `device`.
// Not here: a multi-tensor launch over all parameters at once (the fast path: today each
// parameter is its own launch).
#pragma once

#include <cstdint>

namespace pix::cuda {

// Sum of x*x in double (deterministic: fixed blocks, partials added in order), written to the
// device double at `out` without waiting: one read-back then collects the sums of many tensors.
void sum_squares_into(int device, const float* x, int64_t n, double* out);
void scale_in_place(int device, float* x, float factor, int64_t n);

// torch SGD: d = g + wd*w; b = mu*b + d; w += neg_lr * (kd*d + kb*b). buf null: momentum 0, w += neg_lr*d.
struct SgdScalars {
  float wd, neg_lr, mu, kd, kb;
};
void sgd_update(int device, const SgdScalars& s, const float* g, float* w, float* buf, int64_t n);

// torch AdamW (single tensor): m, v moments, w = w*decay + neg_step * m / (sqrt(v)/bc2_sqrt + eps).
struct AdamScalars {
  float b1, c1, b2, c2, eps, neg_step, bc2_sqrt, decay;
};
void adamw_update(int device, const AdamScalars& s, const float* g, float* w, float* m, float* v, int64_t n);

// timm Lamb for one parameter: moments from g/clip, the direction u = (m/bc1)/(sqrt(v)/bc2_sqrt + eps)
// + wd*w, the trust ratio |w|/|u| (1 when wd is 0 or a norm is 0) computed on the device, then
// w += neg_lr * u * ratio. No host synchronisation.
struct LambScalars {
  float clip, b1, c1, b2, c2, bc1, bc2_sqrt, eps, wd, neg_lr;
};
void lamb_update(int device, const LambScalars& s, const float* g, float* w, float* m, float* v, int64_t n);

// timm ModelEma: e = e*d + c*w.
void ema_update(int device, float* e, const float* w, float d, float c, int64_t n);

}  // namespace pix::cuda
