// The JavaScript Tensor class: one pix::Tensor per object. Conversion only; every operation is the
// engine's. Created with Tensor.fromArray / Tensor.zeros, read back with toArray(), released early
// with dispose() (otherwise when the garbage collector finalizes the object).
#pragma once

#include <napi.h>

#include "core/tensor.h"

namespace pix::binding {

class JsTensor : public Napi::ObjectWrap<JsTensor> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, Tensor tensor);
  // The tensor behind a JS value, or a TypeError naming fn and the argument.
  static const Tensor& FromValue(const Napi::Value& value, const char* fn, const char* name);

  explicit JsTensor(const Napi::CallbackInfo& info);

 private:
  static Napi::Value FromArray(const Napi::CallbackInfo& info);
  static Napi::Value Zeros(const Napi::CallbackInfo& info);
  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value DTypeName(const Napi::CallbackInfo& info);
  Napi::Value DeviceName(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value ToArray(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value Cast(const Napi::CallbackInfo& info);
  Napi::Value Reshape(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  const Tensor& live(const char* fn) const;

  Tensor tensor_;
  // Per thread: the main thread and each worker load the addon into their own environment.
  static thread_local Napi::FunctionReference* constructor_;
};

}  // namespace pix::binding
