// Mixup/CutMix application on the CPU (ops/mixup.h): pairs (n, N-1-n) in parallel, each blended
// or box-swapped in f32 as torch computes it. Arguments arrive checked (ops/mixup.cpp).
#include <algorithm>

#include "core/thread_pool.h"
#include "ops/mixup.h"

namespace pix::cpu {

void mixup_apply(Tensor& x, const MixupParams& params) {
  const int64_t n = x.size(0), w = x.size(2), c = x.size(3);
  const int64_t image = x.size(1) * w * c;
  // torch multiplies an f32 tensor by a Python float in f32: both weights are rounded first.
  const float keep = static_cast<float>(params.lam), take = static_cast<float>(1.0 - params.lam);
  const MixupBox& b = params.box;
  float* data = x.data<float>();
  // Each pair (n, N-1-n) is updated from its own two images only, so pairs run in parallel.
  parallel_for(n / 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* a = data + i * image;
      float* z = data + (n - 1 - i) * image;
      if (params.cutmix) {
        for (int64_t y = b.y0; y < b.y1; ++y)
          std::swap_ranges(a + (y * w + b.x0) * c, a + (y * w + b.x1) * c, z + (y * w + b.x0) * c);
        continue;
      }
      for (int64_t j = 0; j < image; ++j) {
        const float av = a[j], zv = z[j];
        a[j] = av * keep + zv * take;
        z[j] = zv * keep + av * take;
      }
    }
  });
}

Tensor mix_flipped_rows(const Tensor& rows, double lam) {
  const int64_t n = rows.size(0), k = rows.size(1);
  const float keep = static_cast<float>(lam), take = static_cast<float>(1.0 - lam);
  Tensor out = Tensor::empty(rows.shape(), DType::F32);
  for (int64_t i = 0; i < n; ++i) {
    const float* own = rows.data<float>() + i * k;
    const float* partner = rows.data<float>() + (n - 1 - i) * k;
    float* t = out.data<float>() + i * k;
    for (int64_t j = 0; j < k; ++j) t[j] = own[j] * keep + partner[j] * take;
  }
  return out;
}

}  // namespace pix::cpu
