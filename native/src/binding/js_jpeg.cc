// JPEG decoding and PIL's resize (native/src/image/{jpeg_decode,resize,resized_crop}) for
// JavaScript. Conversion only. Synchronous like js_image.cc: the loader's worker threads call them.
// The JPEG functions exist only in an engine built with libjpeg (PIX_HAVE_JPEG); without them the
// loader decodes every file with sharp. resizeImage is always there.
#include <napi.h>

#include <cstdint>
#include <string>

#include "binding/errors.h"
#include "binding/image_args.h"
#include "core/error.h"
#include "image/resize.h"
#if PIX_HAVE_JPEG
#include "image/jpeg_decode.h"
#include "image/resized_crop.h"
#endif

namespace pix::binding {
namespace {

int int_value(const Napi::Object& obj, const char* key, int fallback, const char* fn) {
  const double d = number_field(obj, key, fallback, fn);
  if (!(d == static_cast<double>(static_cast<int64_t>(d)) && d >= -(1 << 30) && d <= (1 << 30)))
    throw ArgumentError{concat(fn, ": '", key, "' must be an integer, got ", d)};
  return static_cast<int>(d);
}

image::Resample resample_of(const Napi::Object& params, const char* fn) {
  const std::string name = string_field(params, "resample", "", fn);
  if (name == "bilinear") return image::Resample::Bilinear;
  if (name == "bicubic") return image::Resample::Bicubic;
  throw Error(concat(fn, ": resample must be 'bilinear' or 'bicubic', got '", name, "'"));
}

// resizeImage(src, srcWidth, srcHeight, out, outWidth, outHeight,
//             { box?, resizeWidth?, resizeHeight?, outLeft?, outTop?, resample, flip? })
Napi::Value ResizeImage(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "resizeImage";
    const image::ImageU8 src = image_at(info, 0, fn);
    const image::ImageU8 out = image_at(info, 3, fn);
    const Napi::Object options = object_arg(info, 6, fn, "params");
    image::ResizeParams p;
    p.box[2] = src.width;
    p.box[3] = src.height;
    Napi::Value box = options.Get("box");
    if (!box.IsUndefined()) {
      if (!box.IsArray() || box.As<Napi::Array>().Length() != 4)
        throw ArgumentError{concat(fn, ": box must be [left, top, right, bottom]")};
      for (uint32_t i = 0; i < 4; ++i) {
        Napi::Value v = box.As<Napi::Array>().Get(i);
        if (!v.IsNumber()) throw ArgumentError{concat(fn, ": box must be 4 numbers")};
        p.box[i] = v.As<Napi::Number>().DoubleValue();
      }
    }
    p.out_width = int_value(options, "resizeWidth", out.width, fn);
    p.out_height = int_value(options, "resizeHeight", out.height, fn);
    p.out_left = int_value(options, "outLeft", 0, fn);
    p.out_top = int_value(options, "outTop", 0, fn);
    p.resample = resample_of(options, fn);
    p.flip = bool_field(options, "flip", false, fn);
    image::resize({src.data, src.width, src.height, int64_t{src.width} * image::kChannels}, p, out);
    return info.Env().Undefined();
  });
}

#if PIX_HAVE_JPEG
// jpegInfo(file) -> { width, height, rgb }
Napi::Value JpegInfo(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Uint8Array file = bytes_arg(info, 0, "jpegInfo", "file");
    const image::JpegInfo header = image::read_jpeg_info(file.Data(), file.ByteLength());
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("width", header.width);
    result.Set("height", header.height);
    result.Set("rgb", header.rgb);
    return result;
  });
}

// decodeJpeg(file, { left?, top?, width?, height?, scaleDenom? }) -> Uint8Array (H,W,3) of the region
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "decodeJpeg";
    Napi::Uint8Array file = bytes_arg(info, 0, fn, "file");
    const Napi::Object options = info.Length() > 1 ? object_arg(info, 1, fn, "region") : Napi::Object::New(info.Env());
    image::JpegRegion r;
    r.scale_denom = int_value(options, "scaleDenom", 1, fn);
    r.left = int_value(options, "left", 0, fn);
    r.top = int_value(options, "top", 0, fn);
    if (options.Get("width").IsUndefined() || options.Get("height").IsUndefined()) {
      const image::JpegInfo header = image::read_jpeg_info(file.Data(), file.ByteLength());
      r.width = image::jpeg_scaled_size(header.width, r.scale_denom) - r.left;
      r.height = image::jpeg_scaled_size(header.height, r.scale_denom) - r.top;
    }
    r.width = int_value(options, "width", r.width, fn);
    r.height = int_value(options, "height", r.height, fn);
    const image::DecodedJpeg decoded = image::decode_jpeg_region(file.Data(), file.ByteLength(), r);
    Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), static_cast<size_t>(r.width) * r.height * image::kChannels);
    const size_t row = static_cast<size_t>(r.width) * image::kChannels;
    for (int y = 0; y < r.height; ++y)
      std::copy_n(decoded.region.data + y * decoded.region.stride, row, out.Data() + y * row);
    return out;
  });
}

// jpegResizedCrop(file, out, outWidth, outHeight,
//                 { left, top, width, height, resizeWidth, resizeHeight, outLeft?, outTop?, resample, flip?, dctScaling? })
Napi::Value JpegResizedCrop(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "jpegResizedCrop";
    Napi::Uint8Array file = bytes_arg(info, 0, fn, "file");
    const image::ImageU8 out = image_at(info, 1, fn);
    const Napi::Object options = object_arg(info, 4, fn, "params");
    image::JpegResizedCropParams p;
    p.left = int_value(options, "left", 0, fn);
    p.top = int_value(options, "top", 0, fn);
    p.width = int_value(options, "width", 0, fn);
    p.height = int_value(options, "height", 0, fn);
    p.resize_width = int_value(options, "resizeWidth", out.width, fn);
    p.resize_height = int_value(options, "resizeHeight", out.height, fn);
    p.out_left = int_value(options, "outLeft", 0, fn);
    p.out_top = int_value(options, "outTop", 0, fn);
    p.resample = resample_of(options, fn);
    p.flip = bool_field(options, "flip", false, fn);
    p.dct_scaling = bool_field(options, "dctScaling", true, fn);
    image::jpeg_resized_crop(file.Data(), file.ByteLength(), p, out);
    return info.Env().Undefined();
  });
}
#endif

}  // namespace

void InitJpeg(Napi::Env env, Napi::Object exports) {
  exports.Set("resizeImage", Napi::Function::New<ResizeImage>(env, "resizeImage"));
#if PIX_HAVE_JPEG
  exports.Set("jpegInfo", Napi::Function::New<JpegInfo>(env, "jpegInfo"));
  exports.Set("decodeJpeg", Napi::Function::New<DecodeJpeg>(env, "decodeJpeg"));
  exports.Set("jpegResizedCrop", Napi::Function::New<JpegResizedCrop>(env, "jpegResizedCrop"));
#endif
}

}  // namespace pix::binding
