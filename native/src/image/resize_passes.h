// Internal to resize: PIL's fixed-point weights and the two passes, shared by the portable build
// (resize.cpp) and the AVX2 one (resize_avx2.cpp, compiled with -mavx2 and picked at run time).
// Both give PIL's integers exactly: only the order of integer additions differs, and no partial
// sum can overflow (the |weights| of one output sum to under 2 in 22-bit fixed point).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "image/resize.h"

namespace pix::image::resize_detail {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's: 8-bit pixels times 22-bit weights fit an int32

// The weights of one pass: output i reads taps[i] source pixels from start[i], with weights
// weights[i * ksize ...].
struct Coeffs {
  int ksize = 0;
  std::vector<int> start;
  std::vector<int> taps;
  std::vector<int32_t> weights;
};

static inline uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// temp (rows of out.width RGB pixels, the source rows from v.start[0]) -> out, one output row at a
// time so the inner loop runs along memory and vectorises (static: each build compiles its own).
static inline void vertical_pass(const uint8_t* temp, const Coeffs& v, ImageU8 out) {
  const int64_t stride = int64_t{out.width} * kChannels;
  std::vector<int32_t> acc(static_cast<size_t>(stride));
  for (int j = 0; j < out.height; ++j) {
    const int32_t* k = &v.weights[static_cast<size_t>(j) * v.ksize];
    const uint8_t* base = temp + (v.start[j] - v.start[0]) * stride;
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < v.taps[j]; ++y) {
      const uint8_t* in = base + y * stride;
      const int32_t w = k[y];
      for (int64_t c = 0; c < stride; ++c) acc[c] += in[c] * w;
    }
    uint8_t* o = out.row(j);
    for (int64_t c = 0; c < stride; ++c) o[c] = clip8(acc[c]);
  }
}

// Both passes: src rows [v.start[0], +rows) resized across into temp, then down into out.
void passes_avx2(const ImageViewU8& src, const Coeffs& h, const Coeffs& v, int rows, bool flip, ImageU8 out);

}  // namespace pix::image::resize_detail
