// The sigmoid on the CPU: plain loops (the gate holds N*K values, far below threading's cost).
#include <cmath>

#include "ops/sigmoid.h"

namespace pix::cpu {

Tensor sigmoid_forward(const Tensor& z) {
  Tensor p = Tensor::empty(z.shape(), DType::F32);
  const float* zs = z.data<float>();
  float* ps = p.data<float>();
  for (int64_t i = 0; i < z.numel(); ++i) ps[i] = 1.f / (1.f + std::exp(-zs[i]));
  return p;
}

Tensor sigmoid_backward(const Tensor& p, const Tensor& dp) {
  Tensor dz = Tensor::empty(p.shape(), DType::F32);
  const float* ps = p.data<float>();
  const float* gs = dp.data<float>();
  float* ds = dz.data<float>();
  for (int64_t i = 0; i < p.numel(); ++i) ds[i] = gs[i] * ps[i] * (1.f - ps[i]);
  return dz;
}

}  // namespace pix::cpu
