// The end of the training transform on the training device, as timm's PrefetchLoader does it: a
// batch of 8-bit images x (N,H,W,3) u8 becomes normalised floats y (N,H,W,3) f32 on x's device,
// ((v / 255 - mean) / std in float32, image/normalize_erase.h), then each sample's RandomErasing boxes
// are filled. The math is image/normalize_erase's, so a sample gives the same floats whether the
// loader normalised it (the f32 path) or this op did: the CPU backend runs that function per image,
// the CUDA kernel looks up the same table and draws the same noise (image/normal_draws.h), each
// erased element's noise index computed from the box order.
// Not here: where the boxes go and the seed (the loader draws them per sample), and Mixup (ops/mixup.h).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "image/normalize_erase.h"

namespace pix {

// One sample's RandomErasing: its boxes (filled in order), their fill and the noise seed. No boxes:
// the sample is only normalised.
struct SampleErase {
  std::vector<image::EraseBox> boxes;
  image::EraseMode mode = image::EraseMode::Pixel;
  uint64_t seed = 0;
};

struct NormalizeEraseBatchParams {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  std::vector<SampleErase> erase;  // one per sample, or empty: nothing erased
};

// x (N,H,W,3) u8 -> y (N,H,W,3) f32 on x's device.
Tensor normalize_erase_batch(const Tensor& x, const NormalizeEraseBatchParams& params);

// ---- backends (same signatures; arguments already validated, y allocated like x in f32) ----
namespace cpu {
void normalize_erase_batch(const Tensor& x, Tensor& y, const NormalizeEraseBatchParams& params);
}
namespace cuda {
void normalize_erase_batch(const Tensor& x, Tensor& y, const NormalizeEraseBatchParams& params);
}

}  // namespace pix
