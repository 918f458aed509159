// gemm(a, b, c, params?): the CPU SGEMM (ops/gemm.h) on 2-D f32 tensors, for tests, benchmarks and
// tools. c is written in place; the call is synchronous (one SGEMM). Not a training entry point:
// layers call sgemm directly.
#include <napi.h>

#include <cmath>

#include "binding/errors.h"
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

// An optional size: -1 when the field is absent.
int64_t size_field(const Napi::Object& obj, const char* key) {
  if (obj.Get(key).IsUndefined()) return -1;
  const double value = number_field(obj, key, 0, kFn);
  PIX_CHECK(value >= 0 && value == std::floor(value) && value < 9.0e15, kFn, ": ", key,
            " must be a non-negative integer, got ", value);
  return static_cast<int64_t>(value);
}

bool share_memory(const Tensor& x, const Tensor& y) {
  const char* xs = static_cast<const char*>(x.raw_data());
  const char* ys = static_cast<const char*>(y.raw_data());
  return x.nbytes() > 0 && y.nbytes() > 0 && xs < ys + y.nbytes() && ys < xs + x.nbytes();
}

// The SIMD level a kernel name other than 'fast' and 'reference' names.
SimdLevel kernel_level(const std::string& kernel) {
  for (SimdLevel level : {SimdLevel::AVX512, SimdLevel::AVX2, SimdLevel::Portable})
    if (kernel == simd_level_name(level)) return level;
  throw Error(concat(kFn, ": kernel must be 'fast', 'reference', 'avx512', 'avx2' or 'portable', got '", kernel, "'"));
}

// A stored matrix of `rows` x `cols` (the tensor's own rows and columns: the leading dimension is its
// row length), checked against what op() needs: exactly that shape, or at least as many rows when
// explicit sizes let the matrix sit in the tensor's top-left corner.
void check_stored(const Tensor& t, const char* name, const char* layout, int64_t rows, int64_t cols, bool exact) {
  if (exact)
    PIX_CHECK(t.size(0) == rows && t.size(1) == cols, kFn, ": ", name, " has shape ", shape_str(t.shape()),
              " but must be ", layout, " = (", rows, ",", cols, ")");
  else
    PIX_CHECK(t.size(0) >= rows, kFn, ": ", name, " has ", t.size(0), " rows but ", layout, " needs ", rows);
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

    GemmParams p;
    p.trans_a = bool_field(options, "transA", false, kFn);
    p.trans_b = bool_field(options, "transB", false, kFn);
    p.alpha = static_cast<float>(number_field(options, "alpha", 1, kFn));
    p.beta = static_cast<float>(number_field(options, "beta", 0, kFn));
    p.precision = parse_compute_precision(string_field(options, "precision", "fp32", kFn), kFn);
    const int64_t m = size_field(options, "m"), n = size_field(options, "n"), k = size_field(options, "k");
    const bool derived = m < 0 && n < 0 && k < 0;
    PIX_CHECK(derived || (m >= 0 && n >= 0 && k >= 0), kFn, ": give all of m, n and k, or none");
    p.m = derived ? c.size(0) : m;
    p.n = derived ? c.size(1) : n;
    p.k = derived ? a.size(p.trans_a ? 0 : 1) : k;
    p.lda = a.size(1), p.ldb = b.size(1), p.ldc = c.size(1);
    if (p.trans_a)
      check_stored(a, "a", "A stored (K,M)", p.k, p.m, derived);
    else
      check_stored(a, "a", "A stored (M,K)", p.m, p.k, derived);
    if (p.trans_b)
      check_stored(b, "b", "B stored (N,K)", p.n, p.k, derived);
    else
      check_stored(b, "b", "B stored (K,N)", p.k, p.n, derived);
    check_stored(c, "c", "C (M,N)", p.m, p.n, derived);

    if (!options.Get("bias").IsUndefined()) {
      const Tensor& bias = JsTensor::FromValue(options.Get("bias"), kFn, "bias");
      PIX_CHECK(bias.dtype() == DType::F32 && bias.device().is_cpu() && bias.numel() == p.n, kFn,
                ": bias must be f32 on the cpu with n = ", p.n, " values");
      p.epilogue.bias = bias.data<float>();
    }
    if (!options.Get("residual").IsUndefined()) {
      const Tensor& residual = matrix_arg_value(options.Get("residual"), "residual");
      check_stored(residual, "residual", "the residual (M,N)", p.m, p.n, true);
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
                   true);
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
