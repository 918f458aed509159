#include "image/contrast.h"

#include "image/blend.h"

namespace pix::image {

void contrast(ImageU8 img, double factor) {
  check_image(img, "contrast");
  // ImageStat's mean: the histogram's sum of value * count over the count, in double.
  int64_t histogram[256] = {};
  const uint8_t* q = img.data;
  for (int64_t i = 0, n = img.pixels(); i < n; ++i, q += kChannels) ++histogram[pil_luma(q)];
  double sum = 0;
  for (int v = 0; v < 256; ++v) sum += static_cast<double>(v) * static_cast<double>(histogram[v]);
  const uint8_t mean = static_cast<uint8_t>(static_cast<int>(sum / static_cast<double>(img.pixels()) + 0.5));

  const float alpha = static_cast<float>(factor);
  uint8_t* p = img.data;
  for (int64_t i = 0, n = img.bytes(); i < n; ++i) p[i] = blend_value(mean, p[i], alpha);
}

}  // namespace pix::image
