#include "binding/js_tensor.h"

#include <cstring>

#include "binding/errors.h"
#include "core/error.h"
#include "ops/cast.h"

namespace pix::binding {

thread_local Napi::FunctionReference* JsTensor::constructor_ = nullptr;

namespace {

Shape shape_arg(const Napi::Value& value, const char* fn) {
  if (!value.IsArray()) throw ArgumentError{concat(fn, ": shape must be an array of non-negative integers")};
  Napi::Array array = value.As<Napi::Array>();
  Shape shape;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value dim = array.Get(i);
    const double d = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d == static_cast<double>(static_cast<int64_t>(d)) && d < 9.0e15))
      throw ArgumentError{concat(fn, ": shape must be an array of non-negative integers")};
    shape.push_back(static_cast<int64_t>(d));
  }
  return shape;
}

Device device_arg(const Napi::Value& value, const char* fn) {
  if (value.IsUndefined()) return Device::cpu();
  if (!value.IsString()) throw ArgumentError{concat(fn, ": device must be a string such as 'cpu' or 'cuda:0'")};
  return Device::parse(value.As<Napi::String>().Utf8Value());
}

DType dtype_arg(const Napi::Value& value, DType fallback, const char* fn) {
  if (value.IsUndefined()) return fallback;
  if (!value.IsString()) throw ArgumentError{concat(fn, ": dtype must be a string: f32, f64, bf16, i64 or u8")};
  return parse_dtype(value.As<Napi::String>().Utf8Value());
}

}  // namespace

void JsTensor::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "Tensor",
                                   {StaticMethod<&JsTensor::FromArray>("fromArray"),
                                    StaticMethod<&JsTensor::Zeros>("zeros"),
                                    InstanceAccessor<&JsTensor::GetShape>("shape"),
                                    InstanceAccessor<&JsTensor::DTypeName>("dtype"),
                                    InstanceAccessor<&JsTensor::DeviceName>("device"),
                                    InstanceAccessor<&JsTensor::Numel>("numel"),
                                    InstanceMethod<&JsTensor::ToArray>("toArray"),
                                    InstanceMethod<&JsTensor::To>("to"),
                                    InstanceMethod<&JsTensor::Cast>("cast"),
                                    InstanceMethod<&JsTensor::Reshape>("reshape"),
                                    InstanceMethod<&JsTensor::Dispose>("dispose")});
  constructor_ = new Napi::FunctionReference(Napi::Persistent(cls));
  env.SetInstanceData(constructor_);
  exports.Set("Tensor", cls);
}

JsTensor::JsTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsTensor>(info) {}

Napi::Object JsTensor::Wrap(Napi::Env env, Tensor tensor) {
  Napi::Object obj = constructor_->New({});
  ObjectWrap<JsTensor>::Unwrap(obj)->tensor_ = std::move(tensor);
  return obj;
}

const Tensor& JsTensor::FromValue(const Napi::Value& value, const char* fn, const char* name) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor_->Value()))
    throw ArgumentError{concat(fn, ": argument '", name, "' must be a Tensor")};
  return ObjectWrap<JsTensor>::Unwrap(value.As<Napi::Object>())->live(fn);
}

const Tensor& JsTensor::live(const char* fn) const {
  PIX_CHECK(tensor_.defined(), fn, ": the tensor was disposed");
  return tensor_;
}

// Tensor.fromArray(data, shape, dtype?, device?): Float32Array -> f32 (or bf16 when asked),
// Float64Array -> f64 (or f32/bf16), BigInt64Array -> i64, Uint8Array -> u8 (8-bit pixels).
Napi::Value JsTensor::FromArray(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "Tensor.fromArray";
    if (info.Length() < 2 || !info[0].IsTypedArray())
      throw ArgumentError{concat(fn, ": data must be a Float32Array, Float64Array, BigInt64Array or Uint8Array")};
    Napi::TypedArray array = info[0].As<Napi::TypedArray>();
    const Shape shape = shape_arg(info[1], fn);
    const Device device = device_arg(info.Length() > 3 ? info[3] : info.Env().Undefined(), fn);
    DType source;
    switch (array.TypedArrayType()) {
      case napi_float32_array: source = DType::F32; break;
      case napi_float64_array: source = DType::F64; break;
      case napi_bigint64_array: source = DType::I64; break;
      case napi_uint8_array: source = DType::U8; break;
      default: throw ArgumentError{concat(fn, ": data must be a Float32Array, Float64Array, BigInt64Array or Uint8Array")};
    }
    const DType target = dtype_arg(info.Length() > 2 ? info[2] : info.Env().Undefined(), source, fn);
    PIX_CHECK(static_cast<int64_t>(array.ElementLength()) == shape_numel(shape), fn, ": data has ",
              array.ElementLength(), " elements but shape ", shape_str(shape), " needs ", shape_numel(shape));
    const uint8_t* bytes = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    if (target == source && !device.is_cpu()) {  // straight from the array: one host copy (the staging) fewer
      Tensor t = Tensor::empty(shape, source, device);
      copy_bytes(t.raw_data(), device, bytes, Device::cpu(), t.nbytes());
      return Wrap(info.Env(), t);
    }
    Tensor host = Tensor::empty(shape, source, Device::cpu());
    std::memcpy(host.raw_data(), bytes, host.nbytes());
    if (target != source) {
      auto integral = [](DType d) { return d == DType::I64 || d == DType::U8; };
      PIX_CHECK(!integral(source) && !integral(target), fn, ": cannot convert ", dtype_name(source), " data to ",
                dtype_name(target), " (i64 and u8 tensors come from BigInt64Array and Uint8Array as they are)");
      host = cast(host, target);
    }
    return Wrap(info.Env(), device.is_cpu() ? host : host.to(device));
  });
}

// Tensor.zeros(shape, dtype = 'f32', device = 'cpu')
Napi::Value JsTensor::Zeros(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "Tensor.zeros";
    const Shape shape = shape_arg(info.Length() > 0 ? info[0] : info.Env().Undefined(), fn);
    const DType dtype = dtype_arg(info.Length() > 1 ? info[1] : info.Env().Undefined(), DType::F32, fn);
    const Device device = device_arg(info.Length() > 2 ? info[2] : info.Env().Undefined(), fn);
    return Wrap(info.Env(), Tensor::zeros(shape, dtype, device));
  });
}

Napi::Value JsTensor::GetShape(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Tensor& t = live("Tensor.shape");
    Napi::Array out = Napi::Array::New(info.Env(), t.dim());
    for (int i = 0; i < t.dim(); ++i) out.Set(i, Napi::Number::New(info.Env(), static_cast<double>(t.size(i))));
    return out;
  });
}

Napi::Value JsTensor::DTypeName(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), dtype_name(live("Tensor.dtype").dtype())); });
}

Napi::Value JsTensor::DeviceName(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), live("Tensor.device").device().str()); });
}

Napi::Value JsTensor::Numel(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(live("Tensor.numel").numel()));
  });
}

// toArray(): f32 and bf16 come back as a Float32Array, f64 as Float64Array, i64 as BigInt64Array,
// u8 as Uint8Array.
Napi::Value JsTensor::ToArray(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Tensor host = live("Tensor.toArray").to(Device::cpu());
    if (host.dtype() == DType::BF16) host = cast(host, DType::F32);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(info.Env(), host.nbytes());
    std::memcpy(buffer.Data(), host.raw_data(), host.nbytes());
    const size_t n = static_cast<size_t>(host.numel());
    switch (host.dtype()) {
      case DType::F64: return Napi::Float64Array::New(info.Env(), n, buffer, 0);
      case DType::I64: return Napi::BigInt64Array::New(info.Env(), n, buffer, 0);
      case DType::U8: return Napi::Uint8Array::New(info.Env(), n, buffer, 0);
      default: return Napi::Float32Array::New(info.Env(), n, buffer, 0);
    }
  });
}

Napi::Value JsTensor::To(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Device device = device_arg(info.Length() > 0 ? info[0] : info.Env().Undefined(), "Tensor.to");
    return Wrap(info.Env(), live("Tensor.to").to(device));
  });
}

Napi::Value JsTensor::Cast(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw ArgumentError{"Tensor.cast: dtype must be a string"};
    return Wrap(info.Env(), cast(live("Tensor.cast"), parse_dtype(info[0].As<Napi::String>().Utf8Value())));
  });
}

Napi::Value JsTensor::Reshape(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Shape shape = shape_arg(info.Length() > 0 ? info[0] : info.Env().Undefined(), "Tensor.reshape");
    return Wrap(info.Env(), live("Tensor.reshape").reshape(shape));
  });
}

Napi::Value JsTensor::Dispose(const Napi::CallbackInfo& info) {
  tensor_ = Tensor();
  return info.Env().Undefined();
}

}  // namespace pix::binding
