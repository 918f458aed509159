// The training-side ops exposed to JavaScript: the losses (ops/losses.h) and Mixup/CutMix
// (ops/mixup.h). Each call is one short synchronous loop over a batch, run on the JS thread like the
// other small ops (on CUDA, the launches and the copy of the loss back); the losses return
// { loss, dlogits } with a fresh dlogits tensor on the logits' device.
#include <napi.h>

#include <cmath>

#include "binding/errors.h"
#include "binding/js_tensor.h"
#include "core/error.h"
#include "ops/losses.h"
#include "ops/mixup.h"

namespace pix::binding {
namespace {

// Integers cross as JS numbers: exact up to 2^53.
constexpr double kMaxSafeInteger = 9007199254740991.0;

double number_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (info.Length() <= index || !info[index].IsNumber())
    throw ArgumentError{concat(fn, ": argument '", name, "' must be a number")};
  return info[index].As<Napi::Number>().DoubleValue();
}

int64_t integer_field(const Napi::Object& obj, const char* key, const char* fn) {
  if (obj.Get(key).IsUndefined()) throw ArgumentError{concat(fn, ": '", key, "' is required")};
  const double value = number_field(obj, key, 0, fn);
  PIX_CHECK(value >= 0 && value == std::floor(value) && value <= kMaxSafeInteger, fn, ": ", key,
            " must be a non-negative integer, got ", value);
  return static_cast<int64_t>(value);
}

int64_t num_classes_arg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  const double k = number_arg(info, index, fn, "numClasses");
  PIX_CHECK(k >= 1 && k == std::floor(k) && k <= kMaxSafeInteger, fn, ": numClasses must be a positive integer, got ",
            k);
  return static_cast<int64_t>(k);
}

Napi::Object loss_result(Napi::Env env, double loss, const Tensor& dlogits) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", loss);
  out.Set("dlogits", JsTensor::Wrap(env, dlogits));
  return out;
}

// crossEntropy(logits, targets) -> { loss, dlogits }: soft-target cross-entropy.
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "crossEntropy";
    const Tensor& logits = JsTensor::FromValue(info[0], fn, "logits");
    const Tensor& targets = JsTensor::FromValue(info[1], fn, "targets");
    Tensor dlogits = Tensor::empty(logits.shape(), DType::F32, logits.device());
    const double loss = soft_target_cross_entropy(logits, targets, dlogits);
    return loss_result(info.Env(), loss, dlogits);
  });
}

// labelSmoothingCrossEntropy(logits, labels, smoothing) -> { loss, dlogits }
Napi::Value LabelSmoothingCrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "labelSmoothingCrossEntropy";
    const Tensor& logits = JsTensor::FromValue(info[0], fn, "logits");
    const Tensor& labels = JsTensor::FromValue(info[1], fn, "labels");
    const double smoothing = number_arg(info, 2, fn, "smoothing");
    Tensor dlogits = Tensor::empty(logits.shape(), DType::F32, logits.device());
    const double loss = label_smoothing_cross_entropy(logits, labels, smoothing, dlogits);
    return loss_result(info.Env(), loss, dlogits);
  });
}

// binaryCrossEntropy(logits, targets, { targetThreshold = null }?) -> { loss, dlogits }
Napi::Value BinaryCrossEntropy(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "binaryCrossEntropy";
    const Tensor& logits = JsTensor::FromValue(info[0], fn, "logits");
    const Tensor& targets = JsTensor::FromValue(info[1], fn, "targets");
    BceParams params;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      const Napi::Value threshold = object_arg(info, 2, fn, "options").Get("targetThreshold");
      if (!threshold.IsUndefined() && !threshold.IsNull()) {
        if (!threshold.IsNumber()) throw ArgumentError{concat(fn, ": 'targetThreshold' must be a number or null")};
        params.target_threshold = threshold.As<Napi::Number>().DoubleValue();
      }
    }
    Tensor dlogits = Tensor::empty(logits.shape(), DType::F32, logits.device());
    const double loss = binary_cross_entropy(logits, targets, params, dlogits);
    return loss_result(info.Env(), loss, dlogits);
  });
}

// smoothOneHot(labels, numClasses, smoothing) -> targets (N,K)
Napi::Value SmoothOneHot(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "smoothOneHot";
    const Tensor& labels = JsTensor::FromValue(info[0], fn, "labels");
    const int64_t k = num_classes_arg(info, 1, fn);
    return JsTensor::Wrap(info.Env(), smooth_one_hot(labels, k, number_arg(info, 2, fn, "smoothing")));
  });
}

MixupConfig mixup_config(const Napi::Object& obj, const char* fn) {
  MixupConfig config;
  config.mixup_alpha = number_field(obj, "mixupAlpha", config.mixup_alpha, fn);
  config.cutmix_alpha = number_field(obj, "cutmixAlpha", config.cutmix_alpha, fn);
  config.prob = number_field(obj, "prob", config.prob, fn);
  config.switch_prob = number_field(obj, "switchProb", config.switch_prob, fn);
  config.correct_lam = bool_field(obj, "correctLam", config.correct_lam, fn);
  const Napi::Value minmax = obj.Get("cutmixMinmax");
  if (!minmax.IsUndefined() && !minmax.IsNull()) {
    const bool pair = minmax.IsArray() && minmax.As<Napi::Array>().Length() == 2 &&
                      minmax.As<Napi::Array>().Get(0u).IsNumber() && minmax.As<Napi::Array>().Get(1u).IsNumber();
    if (!pair) throw ArgumentError{concat(fn, ": 'cutmixMinmax' must be [min, max] or null")};
    const Napi::Array array = minmax.As<Napi::Array>();
    config.cutmix_minmax = std::make_pair(array.Get(0u).As<Napi::Number>().DoubleValue(),
                                          array.Get(1u).As<Napi::Number>().DoubleValue());
  }
  return config;
}

// mixupDraw(config, { height, width, seed, step }) -> { lam, cutmix, box: { y0, y1, x0, x1 } }
Napi::Value MixupDraw(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "mixupDraw";
    const MixupConfig config = mixup_config(object_arg(info, 0, fn, "config"), fn);
    const Napi::Object at = object_arg(info, 1, fn, "at");
    const MixupParams params =
        mixup_draw(config, integer_field(at, "height", fn), integer_field(at, "width", fn),
                   static_cast<uint64_t>(integer_field(at, "seed", fn)), static_cast<uint64_t>(integer_field(at, "step", fn)));
    Napi::Env env = info.Env();
    Napi::Object box = Napi::Object::New(env);
    box.Set("y0", static_cast<double>(params.box.y0));
    box.Set("y1", static_cast<double>(params.box.y1));
    box.Set("x0", static_cast<double>(params.box.x0));
    box.Set("x1", static_cast<double>(params.box.x1));
    Napi::Object out = Napi::Object::New(env);
    out.Set("lam", params.lam);
    out.Set("cutmix", params.cutmix);
    out.Set("box", box);
    return out;
  });
}

// mixupApply(x, { lam, cutmix, box }): x (N,H,W,C) is mixed in place.
Napi::Value MixupApply(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "mixupApply";
    Tensor x = JsTensor::FromValue(info[0], fn, "x");  // shares the caller's memory
    const Napi::Object obj = object_arg(info, 1, fn, "params");
    MixupParams params;
    params.lam = number_field(obj, "lam", params.lam, fn);
    params.cutmix = bool_field(obj, "cutmix", params.cutmix, fn);
    if (params.cutmix) {
      const Napi::Value box = obj.Get("box");
      if (!box.IsObject()) throw ArgumentError{concat(fn, ": 'box' must be { y0, y1, x0, x1 } when cutmix is set")};
      const Napi::Object b = box.As<Napi::Object>();
      params.box = {integer_field(b, "y0", fn), integer_field(b, "y1", fn), integer_field(b, "x0", fn),
                    integer_field(b, "x1", fn)};
    }
    mixup_apply(x, params);
    return info.Env().Undefined();
  });
}

// mixupTargets(labels, numClasses, { lam, smoothing = 0 }) -> targets (N,K)
Napi::Value MixupTargets(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "mixupTargets";
    const Tensor& labels = JsTensor::FromValue(info[0], fn, "labels");
    const int64_t k = num_classes_arg(info, 1, fn);
    const Napi::Object obj = object_arg(info, 2, fn, "options");
    if (!obj.Get("lam").IsNumber()) throw ArgumentError{concat(fn, ": 'lam' must be a number")};
    const double lam = number_field(obj, "lam", 1.0, fn);
    return JsTensor::Wrap(info.Env(), mixup_targets(labels, k, number_field(obj, "smoothing", 0.0, fn), lam));
  });
}

}  // namespace

void InitTrainOps(Napi::Env env, Napi::Object exports) {
  exports.Set("crossEntropy", Napi::Function::New<CrossEntropy>(env, "crossEntropy"));
  exports.Set("labelSmoothingCrossEntropy", Napi::Function::New<LabelSmoothingCrossEntropy>(env, "labelSmoothingCrossEntropy"));
  exports.Set("binaryCrossEntropy", Napi::Function::New<BinaryCrossEntropy>(env, "binaryCrossEntropy"));
  exports.Set("smoothOneHot", Napi::Function::New<SmoothOneHot>(env, "smoothOneHot"));
  exports.Set("mixupDraw", Napi::Function::New<MixupDraw>(env, "mixupDraw"));
  exports.Set("mixupApply", Napi::Function::New<MixupApply>(env, "mixupApply"));
  exports.Set("mixupTargets", Napi::Function::New<MixupTargets>(env, "mixupTargets"));
}

}  // namespace pix::binding
