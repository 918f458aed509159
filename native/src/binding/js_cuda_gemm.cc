// cudaGemm(a, b, c, params?): cuda::gemm (ops/cuda/gemm.h) on 2-D CUDA tensors, for tests and
// benchmarks: a and b f32 or bf16 (one dtype), c f32 or bf16, all on one device; c is written in
// place on the device's engine stream (reading it back waits for it). Not a training entry point:
// layers call cuda::gemm directly.
// setCudaGemm({ backend?: 'auto' | 'own', tf32?: boolean }): the process-wide implementation choice
// and TF32 switch of cuda::gemm; returns the settings before the call, so a test can restore them.
// Registered in addon.cc; `pix info` (js_info.cc) reports which implementation is active.
#include <napi.h>

#include <cmath>

#include "binding/errors.h"
#include "binding/gemm_args.h"
#include "binding/js_tensor.h"
#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "ops/cuda/gemm.h"

namespace pix::binding {
namespace {

constexpr const char* kFn = "cudaGemm";

const Tensor& matrix(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Tensor& t = JsTensor::FromValue(info[index], kFn, name);
  PIX_CHECK(t.dim() == 2, kFn, ": ", name, " must be 2-D, got shape ", shape_str(t.shape()));
  PIX_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::BF16, kFn, ": ", name, " must be f32 or bf16, got ",
            dtype_name(t.dtype()));
  PIX_CHECK(t.device().is_cuda(), kFn, ": ", name, " must be on a CUDA device, got ", t.device().str());
  return t;
}

// cudaGemm(a, b, c, { transA, transB, alpha = 1, beta = 0, m, n, k }): as the CPU's gemm(), without
// kernel, precision or epilogue. m, n, k: all three or none; with them each matrix sits in the
// top-left corner of its tensor, whose row length is the leading dimension.
Napi::Value CudaGemm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Tensor& a = matrix(info, 0, "a");
    const Tensor& b = matrix(info, 1, "b");
    const Tensor& c = matrix(info, 2, "c");
    const bool has_params = info.Length() > 3 && !info[3].IsUndefined();
    const Napi::Object options = has_params ? object_arg(info, 3, kFn, "params") : Napi::Object::New(info.Env());
    PIX_CHECK(a.dtype() == b.dtype(), kFn, ": a and b must have one dtype, got ", dtype_name(a.dtype()), " and ",
              dtype_name(b.dtype()));
    PIX_CHECK(a.device() == c.device() && b.device() == c.device(), kFn, ": a, b and c must be on one device, got ",
              a.device().str(), ", ", b.device().str(), ", ", c.device().str());
    PIX_CHECK(!share_memory(c, a) && !share_memory(c, b), kFn, ": c must not share memory with a or b");

    const GemmParams p = gemm_params(options, a, b, c, kFn);
    PIX_CUDA_CALL(cuda::gemm(c.device().index, p, a.dtype(), a.raw_data(), b.raw_data(), c.dtype(), c.raw_data()));
    return info.Env().Undefined();
  });
}

Napi::Value SetCudaGemm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Object options = object_arg(info, 0, "setCudaGemm", "options");
    Napi::Object before = Napi::Object::New(info.Env());
#if PIX_HAVE_CUDA
    before.Set("backend", cuda::gemm_backend() == cuda::GemmBackend::Own ? "own" : "auto");
    before.Set("tf32", cuda::gemm_tf32());
    if (!options.Get("backend").IsUndefined()) {
      const std::string backend = string_field(options, "backend", "auto", "setCudaGemm");
      PIX_CHECK(backend == "auto" || backend == "own", "setCudaGemm: backend must be 'auto' or 'own', got '", backend,
                "'");
      cuda::set_gemm_backend(backend == "own" ? cuda::GemmBackend::Own : cuda::GemmBackend::Auto);
    }
    if (!options.Get("tf32").IsUndefined()) cuda::set_gemm_tf32(bool_field(options, "tf32", false, "setCudaGemm"));
#else
    (void)options;
    PIX_CUDA_CALL(return before);
#endif
    return before;
  });
}

}  // namespace

void InitCudaGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaGemm", Napi::Function::New<CudaGemm>(env, "cudaGemm"));
  exports.Set("setCudaGemm", Napi::Function::New<SetCudaGemm>(env, "setCudaGemm"));
}

}  // namespace pix::binding
