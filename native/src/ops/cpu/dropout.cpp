// Dropout on the CPU: one loop over the elements, the mask from core/random.h.
#include "core/error.h"
#include "core/random.h"
#include "ops/dropout.h"

namespace pix::cpu {
Tensor dropout_forward(const Tensor& x, float p, uint64_t seed, Tensor& mask) {
  PIX_CHECK(p >= 0.f && p < 1.f, "dropout: p must be in [0, 1), got ", p);
  PIX_CHECK(x.dtype() == DType::F32, "dropout: the CPU backend computes in f32");
  Tensor y = Tensor::empty(x.shape(), DType::F32);
  mask = Tensor::empty(x.shape(), DType::F32);
  const float keep_scale = 1.f / (1.f - p);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double u = unit_interval(splitmix64(seed ^ splitmix64(static_cast<uint64_t>(i))));
    const float m = u < p ? 0.f : keep_scale;
    mask.data<float>()[i] = m;
    y.data<float>()[i] = x.data<float>()[i] * m;
  }
  return y;
}

void dropout_backward(const Tensor& dy, const Tensor& mask, Tensor& dx) {
  PIX_CHECK(dy.shape() == mask.shape() && dx.shape() == mask.shape(), "dropout_backward: shapes differ");
  for (int64_t i = 0; i < dy.numel(); ++i) dx.data<float>()[i] += dy.data<float>()[i] * mask.data<float>()[i];
}

}  // namespace pix::cpu
