// normalize_erase_batch on the CPU: image::normalize_erase on each image of the batch, images in
// parallel. That function is the definition the CUDA kernel is checked against.
#include "core/thread_pool.h"
#include "ops/normalize_erase_batch.h"

namespace pix::cpu {

void normalize_erase_batch(const Tensor& x, Tensor& y, const NormalizeEraseBatchParams& params) {
  const int64_t n = x.size(0);
  const int h = static_cast<int>(x.size(1)), w = static_cast<int>(x.size(2));
  const int64_t elements = static_cast<int64_t>(h) * w * image::kChannels;
  uint8_t* pixels = x.data<uint8_t>();  // read only: ImageU8 is the in-place ops' mutable view
  float* out = y.data<float>();
  parallel_for(n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      image::NormalizeEraseParams p;
      p.mean = params.mean;
      p.std = params.std;
      if (!params.erase.empty()) {
        p.boxes = params.erase[i].boxes;
        p.mode = params.erase[i].mode;
        p.seed = params.erase[i].seed;
      }
      image::normalize_erase(image::ImageU8{pixels + i * elements, w, h}, out + i * elements, p);
    }
  });
}

}  // namespace pix::cpu
