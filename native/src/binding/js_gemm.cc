// gemm(a, b, c, params?): the CPU SGEMM (ops/gemm.h) on 2-D f32 tensors, for tests, benchmarks and
// tools. c is written in place; the call is synchronous (one SGEMM). Not a training entry point:
// layers call sgemm directly.
#include <napi.h>

#include <cmath>

#include "binding/errors.h"
#include "binding/gemm_args.h"
#include "binding/js_tensor.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/precision.h"
#include "ops/gemm.h"

namespace pix::binding {
namespace {

constexpr const char* kFn = "gemm";

const Tensor& matrix_arg_value(const Napi::Value& value, const char* name) {
  const Tensor& t = JsTensor::FromValue(value, kFn, name);
  PIX_CHECK(t.dim() == 2, kFn, ": ", name, " must be 2-D, got shape ", shape_str(t.shape()));
  PIX_CHECK(t.dtype() == DType::F32, kFn, ": ", name, " must be f32, got ", dtype_name(t.dtype()));
  PIX_CHECK(t.device().is_cpu(), kFn, ": ", name, " must be on the cpu, got ", t.device().str());
  return t;
}

const Tensor& matrix_arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  return matrix_arg_value(info[index], name);
}

// The SIMD level a kernel name other than 'fast' and 'reference' names.
SimdLevel kernel_level(const std::string& kernel) {
  for (SimdLevel level : {SimdLevel::AVX512, SimdLevel::AVX2, SimdLevel::Portable})
    if (kernel == simd_level_name(level)) return level;
  throw Error(concat(kFn, ": kernel must be 'fast', 'reference', 'avx512', 'avx2' or 'portable', got '", kernel, "'"));
}

// gemm(a, b, c, { transA, transB, alpha = 1, beta = 0, kernel = 'fast', precision = 'fp32', m, n, k,
//                 bias, residual, relu = false, sums, groupRows })
// kernel: 'fast' (the best for this CPU), 'avx512' | 'avx2' | 'portable' (that kernel; the CPU must
// have it) or 'reference'. precision: 'fp32' or 'bf16' (ops/gemm.h), whatever the CPU networks use.
// m, n, k: all three or none; without them they come from the shapes. bias (N), residual (M,N),
// relu, and sums (ceil(M / groupRows), N), added into: the epilogue (ops/gemm.h).
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Tensor& a = matrix_arg(info, 0, "a");
    const Tensor& b = matrix_arg(info, 1, "b");
    const Tensor& c = matrix_arg(info, 2, "c");
    const bool has_params = info.Length() > 3 && !info[3].IsUndefined();
    const Napi::Object options = has_params ? object_arg(info, 3, kFn, "params") : Napi::Object::New(info.Env());
    PIX_CHECK(!share_memory(c, a) && !share_memory(c, b), kFn, ": c must not share memory with a or b");

    GemmParams p = gemm_params(options, a, b, c, kFn);
    p.precision = parse_compute_precision(string_field(options, "precision", "fp32", kFn), kFn);

    if (!options.Get("bias").IsUndefined()) {
      const Tensor& bias = JsTensor::FromValue(options.Get("bias"), kFn, "bias");
      PIX_CHECK(bias.dtype() == DType::F32 && bias.device().is_cpu() && bias.numel() == p.n, kFn,
                ": bias must be f32 on the cpu with n = ", p.n, " values");
      p.epilogue.bias = bias.data<float>();
    }
    if (!options.Get("residual").IsUndefined()) {
      const Tensor& residual = matrix_arg_value(options.Get("residual"), "residual");
      check_stored(residual, "residual", "the residual (M,N)", p.m, p.n, true, kFn);
      PIX_CHECK(!share_memory(c, residual), kFn, ": c must not share memory with the residual");
      p.epilogue.residual = residual.data<float>();
      p.epilogue.ldr = residual.size(1);
    }
    p.epilogue.relu = bool_field(options, "relu", false, kFn);
    if (!options.Get("sums").IsUndefined()) {
      const Tensor& sums = matrix_arg_value(options.Get("sums"), "sums");
      const double group_rows = number_field(options, "groupRows", 0, kFn);
      PIX_CHECK(group_rows >= 1 && group_rows == std::floor(group_rows), kFn, ": groupRows must be a positive integer");
      p.epilogue.group_rows = static_cast<int64_t>(group_rows);
      check_stored(sums, "sums", "the sums (groups,N)", (p.m + p.epilogue.group_rows - 1) / p.epilogue.group_rows, p.n,
                   true, kFn);
      p.epilogue.sums = sums.data<float>();
    }

    const std::string kernel = string_field(options, "kernel", "fast", kFn);
    if (kernel == "fast")
      sgemm(p, a.data<float>(), b.data<float>(), c.data<float>());
    else if (kernel == "reference")
      cpu::sgemm_reference(p, a.data<float>(), b.data<float>(), c.data<float>());
    else
      cpu::sgemm_simd(p, kernel_level(kernel), a.data<float>(), b.data<float>(), c.data<float>());
    return info.Env().Undefined();
  });
}

}  // namespace

void InitGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New<Gemm>(env, "gemm"));
}

}  // namespace pix::binding
