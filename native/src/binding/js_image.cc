// The augmentation ops on 8-bit RGB images (native/src/image) for JavaScript. Conversion only:
// pixels arrive as a Uint8Array (H,W,3) that the ops change in place, and normalizeErase writes
// into a Float32Array at an element offset, so a loader can fill its batch without a copy.
// normalizeEraseBatch is the same last step on a whole u8 batch tensor, on its device
// (ops/normalize_erase_batch.h); it takes the erasing arguments normalizeErase takes, per sample.
// Synchronous on purpose: each call is a short loop over one image, and the loader's worker
// threads call them (the functions keep no per-process JavaScript state, so they load in any
// worker).
#include <napi.h>

#include <string>
#include <vector>

#include "binding/errors.h"
#include "binding/image_args.h"
#include "binding/js_tensor.h"
#include "core/error.h"
#include "image/affine.h"
#include "image/autocontrast.h"
#include "image/brightness.h"
#include "image/color.h"
#include "image/contrast.h"
#include "image/equalize.h"
#include "image/invert.h"
#include "image/normalize_erase.h"
#include "image/posterize.h"
#include "image/sharpness.h"
#include "image/solarize.h"
#include "image/solarize_add.h"
#include "ops/normalize_erase_batch.h"

namespace pix::binding {
namespace {

int int_field(const Napi::Object& obj, const char* key, const char* fn) {
  Napi::Value value = obj.Get(key);
  if (!value.IsNumber()) throw ArgumentError{concat(fn, ": '", key, "' must be an integer")};
  const double d = value.As<Napi::Number>().DoubleValue();
  if (!(d == static_cast<double>(static_cast<int64_t>(d)) && d >= -(1 << 30) && d <= (1 << 30)))
    throw ArgumentError{concat(fn, ": '", key, "' must be an integer, got ", d)};
  return static_cast<int>(d);
}

double required_number(const Napi::Object& obj, const char* key, const char* fn) {
  Napi::Value value = obj.Get(key);
  if (!value.IsNumber()) throw ArgumentError{concat(fn, ": '", key, "' must be a number")};
  return value.As<Napi::Number>().DoubleValue();
}

image::Resample resample_field(const Napi::Object& op, const char* fn) {
  const std::string name = string_field(op, "resample", "", fn);
  if (name == "nearest") return image::Resample::Nearest;
  if (name == "bilinear") return image::Resample::Bilinear;
  if (name == "bicubic") return image::Resample::Bicubic;
  throw Error(concat(fn, ": resample must be 'nearest', 'bilinear' or 'bicubic', got '", name, "'"));
}

void affine_op(image::ImageU8 img, const Napi::Object& op, const char* fn) {
  image::AffineParams params;
  Napi::Value matrix = op.Get("matrix");
  if (!matrix.IsArray() || matrix.As<Napi::Array>().Length() != 6)
    throw ArgumentError{concat(fn, ": affine 'matrix' must be an array of 6 numbers (a, b, c, d, e, f)")};
  for (uint32_t i = 0; i < 6; ++i) {
    Napi::Value v = matrix.As<Napi::Array>().Get(i);
    if (!v.IsNumber()) throw ArgumentError{concat(fn, ": affine 'matrix' must be an array of 6 numbers")};
    params.matrix[i] = v.As<Napi::Number>().DoubleValue();
  }
  params.resample = resample_field(op, fn);
  Napi::Value fill = op.Get("fill");
  if (!fill.IsArray() || fill.As<Napi::Array>().Length() != 3)
    throw ArgumentError{concat(fn, ": affine 'fill' must be an array of 3 integers 0..255")};
  for (uint32_t c = 0; c < 3; ++c) {
    Napi::Value v = fill.As<Napi::Array>().Get(c);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= 255 && d == static_cast<int>(d))) throw ArgumentError{concat(fn, ": affine 'fill' must be 3 integers 0..255")};
    params.fill[c] = static_cast<uint8_t>(d);
  }
  const std::vector<uint8_t> source(img.data, img.data + img.bytes());
  image::affine(image::ImageU8{const_cast<uint8_t*>(source.data()), img.width, img.height}, img, params);
}

// The one dispatch point from an op's name to its implementation.
void apply_op(image::ImageU8 img, const Napi::Object& op, const char* fn) {
  const std::string name = string_field(op, "op", "", fn);
  if (name == "affine") return affine_op(img, op, fn);
  if (name == "autocontrast") return image::autocontrast(img);
  if (name == "equalize") return image::equalize(img);
  if (name == "invert") return image::invert(img);
  if (name == "posterize") return image::posterize(img, int_field(op, "bits", fn));
  if (name == "solarize") return image::solarize(img, int_field(op, "threshold", fn));
  if (name == "solarize_add") return image::solarize_add(img, int_field(op, "add", fn), int_field(op, "threshold", fn));
  if (name == "color") return image::color(img, required_number(op, "factor", fn));
  if (name == "contrast") return image::contrast(img, required_number(op, "factor", fn));
  if (name == "brightness") return image::brightness(img, required_number(op, "factor", fn));
  if (name == "sharpness") return image::sharpness(img, required_number(op, "factor", fn));
  throw Error(concat(fn, ": unknown image op '", name, "'"));
}

// augmentImage(pixels, width, height, ops[]): applies the ops in order, in place.
Napi::Value AugmentImage(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "augmentImage";
    const image::ImageU8 img = image_at(info, 0, fn);
    if (info.Length() < 4 || !info[3].IsArray()) throw ArgumentError{concat(fn, ": ops must be an array of op objects")};
    Napi::Array ops = info[3].As<Napi::Array>();
    for (uint32_t i = 0; i < ops.Length(); ++i) {
      Napi::Value op = ops.Get(i);
      if (!op.IsObject()) throw ArgumentError{concat(fn, ": ops[", i, "] must be an object")};
      apply_op(img, op.As<Napi::Object>(), fn);
    }
    return info.Env().Undefined();
  });
}

std::array<float, 3> triple_field(const Napi::Object& obj, const char* key, std::array<float, 3> fallback, const char* fn) {
  Napi::Value value = obj.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 3) throw ArgumentError{concat(fn, ": '", key, "' must be 3 numbers")};
  std::array<float, 3> out;
  for (uint32_t c = 0; c < 3; ++c) {
    Napi::Value v = value.As<Napi::Array>().Get(c);
    if (!v.IsNumber()) throw ArgumentError{concat(fn, ": '", key, "' must be 3 numbers")};
    out[c] = static_cast<float>(v.As<Napi::Number>().DoubleValue());
  }
  return out;
}

// The RandomErasing fields of an options object: { boxes?, mode = 'pixel', seed = 0 }.
SampleErase erase_fields(const Napi::Object& options, const char* fn) {
  SampleErase erase;
  const std::string mode = string_field(options, "mode", "pixel", fn);
  if (mode == "pixel") erase.mode = image::EraseMode::Pixel;
  else if (mode == "rand") erase.mode = image::EraseMode::Rand;
  else if (mode == "const") erase.mode = image::EraseMode::Const;
  else throw Error(concat(fn, ": mode must be 'pixel', 'rand' or 'const', got '", mode, "'"));
  const double seed = number_field(options, "seed", 0, fn);
  PIX_CHECK(seed >= 0 && seed <= 9007199254740991.0 && seed == static_cast<double>(static_cast<uint64_t>(seed)), fn,
            ": seed must be a non-negative integer");
  erase.seed = static_cast<uint64_t>(seed);
  Napi::Value boxes = options.Get("boxes");
  if (!boxes.IsUndefined()) {
    if (!boxes.IsArray()) throw ArgumentError{concat(fn, ": boxes must be an array of { top, left, height, width }")};
    Napi::Array list = boxes.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value b = list.Get(i);
      if (!b.IsObject()) throw ArgumentError{concat(fn, ": boxes[", i, "] must be { top, left, height, width }")};
      const Napi::Object box = b.As<Napi::Object>();
      erase.boxes.push_back({int_field(box, "top", fn), int_field(box, "left", fn), int_field(box, "height", fn),
                             int_field(box, "width", fn)});
    }
  }
  return erase;
}

// normalizeErase(pixels, width, height, out: Float32Array, offset, { mean?, std?, boxes, mode, seed })
Napi::Value NormalizeErase(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "normalizeErase";
    const image::ImageU8 img = image_at(info, 0, fn);
    if (info.Length() < 5 || !info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw ArgumentError{concat(fn, ": out must be a Float32Array")};
    Napi::Float32Array out = info[3].As<Napi::Float32Array>();
    const double offset = info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : -1;
    PIX_CHECK(offset >= 0 && offset == static_cast<double>(static_cast<int64_t>(offset)), fn,
              ": offset must be a non-negative integer (in elements)");
    PIX_CHECK(static_cast<int64_t>(offset) + img.bytes() <= static_cast<int64_t>(out.ElementLength()), fn, ": out has ",
              out.ElementLength(), " elements, too few for ", img.bytes(), " at offset ", offset);
    const Napi::Object options = object_arg(info, 5, fn, "params");

    image::NormalizeEraseParams params;
    params.mean = triple_field(options, "mean", params.mean, fn);
    params.std = triple_field(options, "std", params.std, fn);
    SampleErase erase = erase_fields(options, fn);
    params.boxes = std::move(erase.boxes);
    params.mode = erase.mode;
    params.seed = erase.seed;
    image::normalize_erase(img, out.Data() + static_cast<int64_t>(offset), params);
    return info.Env().Undefined();
  });
}

// normalizeEraseBatch(x: u8 (N,H,W,3), { mean?, std?, erase?: (null | { boxes, mode, seed })[] }) -> f32 (N,H,W,3)
Napi::Value NormalizeEraseBatch(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "normalizeEraseBatch";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Napi::Object options = object_arg(info, 1, fn, "params");
    NormalizeEraseBatchParams params;
    params.mean = triple_field(options, "mean", params.mean, fn);
    params.std = triple_field(options, "std", params.std, fn);
    Napi::Value erase = options.Get("erase");
    if (!erase.IsUndefined()) {
      if (!erase.IsArray()) throw ArgumentError{concat(fn, ": erase must be an array with one entry per sample (null or { boxes, mode, seed })")};
      Napi::Array list = erase.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); ++i) {
        Napi::Value entry = list.Get(i);
        if (entry.IsNull() || entry.IsUndefined()) {
          params.erase.emplace_back();
        } else if (entry.IsObject()) {
          params.erase.push_back(erase_fields(entry.As<Napi::Object>(), fn));
        } else {
          throw ArgumentError{concat(fn, ": erase[", i, "] must be null or { boxes, mode, seed }")};
        }
      }
    }
    return JsTensor::Wrap(info.Env(), normalize_erase_batch(x, params));
  });
}

}  // namespace

void InitImage(Napi::Env env, Napi::Object exports) {
  exports.Set("augmentImage", Napi::Function::New<AugmentImage>(env, "augmentImage"));
  exports.Set("normalizeErase", Napi::Function::New<NormalizeErase>(env, "normalizeErase"));
  exports.Set("normalizeEraseBatch", Napi::Function::New<NormalizeEraseBatch>(env, "normalizeEraseBatch"));
}

}  // namespace pix::binding
