// Turning engine failures into JavaScript exceptions. Every binding entry point runs its body through
// `guarded`, so a pix::Error becomes an Error with the engine's message, a bad argument a TypeError,
// and no C++ exception ever unwinds into Node (which would abort the process).
#pragma once

#include <napi.h>

#include <string>

namespace pix::binding {

// Thrown by argument readers for values of the wrong JavaScript type.
struct ArgumentError {
  std::string message;
};

template <typename Body>
auto guarded(Napi::Env env, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const ArgumentError& e) {
    throw Napi::TypeError::New(env, e.message);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "out of host memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// Argument readers: they name the function and argument in their errors.
Napi::Object object_arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);
std::string string_field(const Napi::Object& obj, const char* key, const std::string& fallback, const char* fn);
double number_field(const Napi::Object& obj, const char* key, double fallback, const char* fn);
bool bool_field(const Napi::Object& obj, const char* key, bool fallback, const char* fn);

}  // namespace pix::binding
