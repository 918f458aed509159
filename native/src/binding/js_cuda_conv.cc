// setCudaConv({ backend?: 'auto' | 'own', benchmark?: boolean, deterministic?: boolean,
// workspaceMib?: number, fused?: boolean }): the process-wide settings of the CUDA convolutions' cuDNN path
// (ops/cuda/conv2d_cudnn.h); returns the settings before the call, so a test or benchmark can
// restore them. Changing them forgets every chosen algorithm.
// cudaConvPlans(): the shapes convolved so far and, per direction, the cuDNN algorithm chosen
// ({ algo, workspaceBytes, mathType }), 'own' where the own path runs it, null before its first call;
// and evaluation's fused forward with ReLU and without (fusedRelu, fusedIdentity): its algorithm,
// { refused: why } where cuDNN refused it, null before its first call.
// Registered in addon.cc; `pix info` (js_info.cc) reports what the convolutions run on.
#include <napi.h>

#include "binding/errors.h"
#include "build_config.h"
#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "ops/cuda/conv2d_cudnn.h"

namespace pix::binding {
namespace {

constexpr const char* kFn = "setCudaConv";

Napi::Value SetCudaConv(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Object options = object_arg(info, 0, kFn, "options");
    Napi::Object before = Napi::Object::New(info.Env());
#if PIX_HAVE_CUDA
    cuda::ConvSettings s = cuda::conv_settings();
    before.Set("backend", s.backend == cuda::ConvBackend::Own ? "own" : "auto");
    before.Set("benchmark", s.benchmark);
    before.Set("deterministic", s.deterministic);
    before.Set("workspaceMib", static_cast<double>(s.workspace_limit >> 20));
    before.Set("fused", s.fused);
    if (!options.Get("backend").IsUndefined()) {
      const std::string backend = string_field(options, "backend", "auto", kFn);
      PIX_CHECK(backend == "auto" || backend == "own", kFn, ": backend must be 'auto' or 'own', got '", backend, "'");
      s.backend = backend == "own" ? cuda::ConvBackend::Own : cuda::ConvBackend::Auto;
    }
    if (!options.Get("benchmark").IsUndefined()) s.benchmark = bool_field(options, "benchmark", false, kFn);
    if (!options.Get("deterministic").IsUndefined()) s.deterministic = bool_field(options, "deterministic", true, kFn);
    if (!options.Get("fused").IsUndefined()) s.fused = bool_field(options, "fused", true, kFn);
    if (!options.Get("workspaceMib").IsUndefined()) {
      const double mib = options.Get("workspaceMib").ToNumber().DoubleValue();
      PIX_CHECK(mib >= 0 && mib <= (1 << 20) && mib == static_cast<double>(static_cast<int64_t>(mib)), kFn,
                ": workspaceMib must be a whole number of MiB from 0 to 1048576, got ", mib);
      s.workspace_limit = static_cast<size_t>(mib) << 20;
    }
    cuda::set_conv_settings(s);
#else
    (void)options;
    PIX_CUDA_CALL(return before);
#endif
    return before;
  });
}

#if PIX_HAVE_CUDA
Napi::Value choice_value(Napi::Env env, const cuda::ConvChoiceInfo& c) {
  if (!c.decided) return env.Null();
  if (!c.usable) return Napi::String::New(env, "own");
  Napi::Object o = Napi::Object::New(env);
  o.Set("algo", c.algo);
  o.Set("workspaceBytes", static_cast<double>(c.workspace));
  o.Set("mathType", c.math);
  return o;
}

Napi::Value fused_value(Napi::Env env, const cuda::ConvChoiceInfo& c) {
  if (!c.decided || c.usable) return choice_value(env, c);
  Napi::Object o = Napi::Object::New(env);
  o.Set("refused", c.refusal);
  return o;
}
#endif

Napi::Value CudaConvPlans(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
#if PIX_HAVE_CUDA
    for (const cuda::ConvPlanInfo& p : cuda::conv_plans()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("device", concat("cuda:", p.device));
      Napi::Object shape = Napi::Object::New(env);
      const ConvShape& s = p.shape;
      for (const auto& [key, value] : {std::pair<const char*, int64_t>{"n", s.n}, {"h", s.h}, {"w", s.w}, {"c", s.c},
                                       {"o", s.o}, {"kernel", s.kernel}, {"stride", s.stride}, {"pad", s.pad}})
        shape.Set(key, static_cast<double>(value));
      o.Set("shape", shape);
      o.Set("dtype", dtype_name(p.dtype));
      o.Set("tf32", p.tf32);
      o.Set("forward", choice_value(env, p.forward));
      o.Set("backwardData", choice_value(env, p.backward_data));
      o.Set("backwardFilter", choice_value(env, p.backward_filter));
      o.Set("fusedRelu", fused_value(env, p.fused_relu));
      o.Set("fusedIdentity", fused_value(env, p.fused_identity));
      out.Set(out.Length(), o);
    }
#endif
    return out;
  });
}

}  // namespace

void InitCudaConv(Napi::Env env, Napi::Object exports) {
  exports.Set("setCudaConv", Napi::Function::New<SetCudaConv>(env, "setCudaConv"));
  exports.Set("cudaConvPlans", Napi::Function::New<CudaConvPlans>(env, "cudaConvPlans"));
}

}  // namespace pix::binding
