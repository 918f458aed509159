// Layout transposes on the CPU.
#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/layout.h"

namespace pix::cpu {

// A plain batched 2-D transpose of (A,B) planes.
Tensor transpose_planes(const Tensor& x, int64_t a, int64_t b, const Shape& out_shape) {
  PIX_CHECK(x.dtype() == DType::F32 && x.device().is_cpu(), "layout: expects an f32 CPU tensor");
  Tensor y = Tensor::empty(out_shape, DType::F32);
  const float* xs = x.data<float>();
  float* ys = y.data<float>();
  const int64_t n = x.size(0);
  parallel_for(n * a, 16, [&](int64_t begin, int64_t end) {
    for (int64_t na = begin; na < end; ++na) {
      const int64_t img = na / a, i = na % a;
      for (int64_t j = 0; j < b; ++j) ys[(img * b + j) * a + i] = xs[na * b + j];
    }
  });
  return y;
}

}  // namespace pix::cpu
