#include "binding/errors.h"

#include "core/error.h"

namespace pix::binding {

Napi::Object object_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  if (info.Length() <= index || !info[index].IsObject())
    throw ArgumentError{concat(fn, ": argument '", name, "' must be an object")};
  return info[index].As<Napi::Object>();
}

std::string string_field(const Napi::Object& obj, const char* key, const std::string& fallback, const char* fn) {
  Napi::Value value = obj.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsString()) throw ArgumentError{concat(fn, ": '", key, "' must be a string")};
  return value.As<Napi::String>().Utf8Value();
}

double number_field(const Napi::Object& obj, const char* key, double fallback, const char* fn) {
  Napi::Value value = obj.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsNumber()) throw ArgumentError{concat(fn, ": '", key, "' must be a number")};
  return value.As<Napi::Number>().DoubleValue();
}

bool bool_field(const Napi::Object& obj, const char* key, bool fallback, const char* fn) {
  Napi::Value value = obj.Get(key);
  if (value.IsUndefined()) return fallback;
  if (!value.IsBoolean()) throw ArgumentError{concat(fn, ": '", key, "' must be a boolean")};
  return value.As<Napi::Boolean>().Value();
}

}  // namespace pix::binding
