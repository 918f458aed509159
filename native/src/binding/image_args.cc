#include "binding/image_args.h"

#include "binding/errors.h"
#include "core/error.h"

namespace pix::binding {

Napi::Uint8Array bytes_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw ArgumentError{concat(fn, ": ", name, " must be a Uint8Array")};
  return info[index].As<Napi::Uint8Array>();
}

image::ImageU8 image_at(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Uint8Array pixels = bytes_arg(info, index, fn, "pixels");
  if (info.Length() <= index + 2 || !info[index + 1].IsNumber() || !info[index + 2].IsNumber())
    throw ArgumentError{concat(fn, ": width and height must be numbers")};
  const double w = info[index + 1].As<Napi::Number>().DoubleValue();
  const double h = info[index + 2].As<Napi::Number>().DoubleValue();
  PIX_CHECK(w >= 1 && h >= 1 && w == static_cast<int>(w) && h == static_cast<int>(h) && w * h <= 1e9, fn,
            ": width and height must be positive integers, got ", w, "x", h);
  image::ImageU8 img{pixels.Data(), static_cast<int>(w), static_cast<int>(h)};
  PIX_CHECK(static_cast<int64_t>(pixels.ElementLength()) == img.bytes(), fn, ": pixels has ", pixels.ElementLength(),
            " bytes but a ", img.width, "x", img.height, " RGB image needs ", img.bytes());
  return img;
}

}  // namespace pix::binding
