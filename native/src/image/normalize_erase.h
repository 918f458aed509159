// The last step of the training transform: 8-bit RGB HWC -> normalised float32 HWC written into a
// caller's buffer (one image of a batch), as torchvision's ToTensor + Normalize compute it in
// float32 ((v / 255 - mean) / std), then timm's RandomErasing boxes filled in normalised space:
// 'pixel' with a fresh N(0,1) value per pixel and channel, 'rand' with one N(0,1) value per box
// and channel, 'const' with 0.
// Where the boxes go is decided by the caller (the per-sample random stream in TypeScript); the
// noise comes from `seed` through a counter-based generator (image/normal_draws.h), so it is the same
// on any thread and on the GPU. Value indices run on across the boxes in their order: in 'pixel'
// mode box b's element (y, x, c) takes index base_b + ((y - top) * width + (x - left)) * 3 + c with
// base_b the element count of the boxes before it; in 'rand' mode box b takes indices 3b..3b+2.
// The batched form on engine tensors, CPU and CUDA, is ops/normalize_erase_batch.h.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace pix::image {

enum class EraseMode { Pixel, Rand, Const };

// Rows [top, top + height) and columns [left, left + width) of the image.
struct EraseBox {
  int top = 0, left = 0, height = 0, width = 0;
};

struct NormalizeEraseParams {
  std::array<float, kChannels> mean{0.485f, 0.456f, 0.406f};
  std::array<float, kChannels> std{0.229f, 0.224f, 0.225f};
  std::vector<EraseBox> boxes;  // filled in this order
  EraseMode mode = EraseMode::Pixel;
  uint64_t seed = 0;
};

// The normalisation of every (channel, value) pair, computed as torch does it in float32:
// table[c][v] = (v / 255 - mean[c]) / std[c]. Throws unless mean and std are finite and std non-zero.
using NormalizeTable = float[kChannels][256];
void normalize_table(const std::array<float, kChannels>& mean, const std::array<float, kChannels>& std,
                     NormalizeTable& table);

// Throws unless the box lies inside a width x height image (`where` prefixes the message).
void check_erase_box(const EraseBox& box, int width, int height, const char* where);

// out holds img.pixels() * 3 floats.
void normalize_erase(const ImageU8& img, float* out, const NormalizeEraseParams& params);

}  // namespace pix::image
