// Global average pooling on the CPU: per image, rows of C summed in double.
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/global_avg_pool.h"

namespace pix::cpu {

Tensor global_avg_pool_forward(const Tensor& x) {
  PIX_CHECK(x.dim() == 4 && x.dtype() == DType::F32, "global_avg_pool: x must be f32 (N,H,W,C), got ",
            shape_str(x.shape()));
  const int64_t n = x.size(0), hw = x.size(1) * x.size(2), c = x.size(3);
  PIX_CHECK(hw > 0, "global_avg_pool: x has no pixels");
  Tensor y = Tensor::empty({n, c}, DType::F32);
  const float* xs = x.data<float>();
  float* ys = y.data<float>();
  parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(c);
    for (int64_t i = begin; i < end; ++i) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t q = 0; q < hw; ++q)
        for (int64_t ch = 0; ch < c; ++ch) acc[ch] += xs[(i * hw + q) * c + ch];
      for (int64_t ch = 0; ch < c; ++ch) ys[i * c + ch] = static_cast<float>(acc[ch] / hw);
    }
  });
  return y;
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  PIX_CHECK(dx.dim() == 4 && dy.shape() == Shape({dx.size(0), dx.size(3)}), "global_avg_pool_backward: dy ",
            shape_str(dy.shape()), " does not match dx ", shape_str(dx.shape()));
  const int64_t n = dx.size(0), hw = dx.size(1) * dx.size(2), c = dx.size(3);
  const float* gs = dy.data<float>();
  float* dxs = dx.data<float>();
  const float inv = 1.f / static_cast<float>(hw);
  parallel_for(n * hw, 256, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const float* g = gs + (row / hw) * c;
      float* d = dxs + row * c;
      for (int64_t ch = 0; ch < c; ++ch) d[ch] += g[ch] * inv;
    }
  });
}

}  // namespace pix::cpu
