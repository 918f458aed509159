#include "image/brightness.h"

#include "image/blend.h"

namespace pix::image {

void brightness(ImageU8 img, double factor) {
  check_image(img, "brightness");
  const float alpha = static_cast<float>(factor);
  uint8_t* p = img.data;
  for (int64_t i = 0, n = img.bytes(); i < n; ++i) p[i] = blend_value(0, p[i], alpha);
}

}  // namespace pix::image
