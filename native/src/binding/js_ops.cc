// Engine ops exposed to JavaScript for tests, tools and the conformance checks. They run
// synchronously: each is one short kernel call (training loops run off the JS thread elsewhere).
#include <napi.h>

#include "binding/errors.h"
#include "binding/js_tensor.h"
#include "core/error.h"
#include "ops/pix.h"

namespace pix::binding {
namespace {

// { zeta, tau = 0.5, layout = 'nhwc', kernel = 'fast' | 'reference' }
PixParams pix_params(const Napi::Object& obj, const char* fn, PixKernel* kernel) {
  PixParams params;
  const double zeta = number_field(obj, "zeta", -1, fn);
  PIX_CHECK(zeta == static_cast<double>(static_cast<int>(zeta)) && zeta >= 1 && zeta <= 1 << 20, fn,
            ": zeta must be a positive integer, got ", zeta);
  params.zeta = static_cast<int>(zeta);
  params.tau = static_cast<float>(number_field(obj, "tau", 0.5, fn));
  params.layout = parse_layout(string_field(obj, "layout", "nhwc", fn));
  const std::string kernel_name = string_field(obj, "kernel", "fast", fn);
  PIX_CHECK(kernel_name == "fast" || kernel_name == "reference", fn, ": kernel must be 'fast' or 'reference', got '",
            kernel_name, "'");
  *kernel = kernel_name == "fast" ? PixKernel::Fast : PixKernel::Reference;
  return params;
}

// pixForward(x, p, params) -> y
Napi::Value PixForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "pixForward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& p = JsTensor::FromValue(info[1], fn, "p");
    PixKernel kernel;
    const PixParams params = pix_params(object_arg(info, 2, fn, "params"), fn, &kernel);
    return JsTensor::Wrap(info.Env(), pix_forward(x, p, params, kernel));
  });
}

// pixBackward(x, p, dy, params & { dx = true, dp = true }) -> { dx?, dp? } (fresh, zero-initialised
// gradients: the engine's backward accumulates, so JS callers get the plain gradient).
Napi::Value PixBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "pixBackward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& p = JsTensor::FromValue(info[1], fn, "p");
    const Tensor& dy = JsTensor::FromValue(info[2], fn, "dy");
    const Napi::Object options = object_arg(info, 3, fn, "params");
    PixKernel kernel;
    const PixParams params = pix_params(options, fn, &kernel);
    Tensor dx = bool_field(options, "dx", true, fn) ? Tensor::zeros(x.shape(), x.dtype(), x.device()) : Tensor();
    Tensor dp = bool_field(options, "dp", true, fn) ? Tensor::zeros(p.shape(), p.dtype(), p.device()) : Tensor();
    pix_backward(x, p, dy, params, dx, dp, kernel);
    Napi::Object out = Napi::Object::New(info.Env());
    if (dx.defined()) out.Set("dx", JsTensor::Wrap(info.Env(), dx));
    if (dp.defined()) out.Set("dp", JsTensor::Wrap(info.Env(), dp));
    return out;
  });
}

}  // namespace

void InitOps(Napi::Env env, Napi::Object exports) {
  exports.Set("pixForward", Napi::Function::New<PixForward>(env, "pixForward"));
  exports.Set("pixBackward", Napi::Function::New<PixBackward>(env, "pixBackward"));
}

}  // namespace pix::binding
