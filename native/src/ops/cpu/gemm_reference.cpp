// The reference SGEMM: the definition in ops/gemm.h, one element of C at a time, summed in double
// (for BF16, of A and B rounded to bf16). No blocking, no threads, no SIMD: the fast kernels are
// tested against this.
#include <algorithm>

#include "core/error.h"
#include "ops/cpu/gemm_kernels.h"
#include "ops/gemm.h"

namespace pix::cpu {

void sgemm_reference(const GemmParams& p, const float* a, const float* b, float* c) {
  PIX_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0, "sgemm_reference: sizes must not be negative, got m=", p.m,
            " n=", p.n, " k=", p.k);
  PIX_CHECK(p.windows.x == nullptr, "sgemm_reference: A must be stored (conv2d's reference loop checks windows)");
  PIX_CHECK(p.lda >= (p.trans_a ? p.m : p.k) && p.ldb >= (p.trans_b ? p.k : p.n) && p.ldc >= p.n,
            "sgemm_reference: a leading dimension is shorter than its matrix's rows");
  const bool product = p.k > 0 && p.alpha != 0.f;  // else A and B are not read, as in BLAS
  const auto operand = [&](float x) {
    return p.precision == ComputePrecision::BF16 ? gemm::bf16_to_float(gemm::round_to_bf16(x)) : x;
  };
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      double sum = 0;
      for (int64_t q = 0; product && q < p.k; ++q) {
        const float a_iq = operand(p.trans_a ? a[q * p.lda + i] : a[i * p.lda + q]);
        const float b_qj = operand(p.trans_b ? b[j * p.ldb + q] : b[q * p.ldb + j]);
        sum += static_cast<double>(a_iq) * b_qj;
      }
      double out = product ? p.alpha * sum : 0.0;
      if (p.beta != 0.f) out += static_cast<double>(p.beta) * c[i * p.ldc + j];  // beta == 0: C is not read
      if (p.epilogue.bias) out += p.epilogue.bias[j];
      if (p.epilogue.residual) out += p.epilogue.residual[i * p.epilogue.ldr + j];
      if (p.epilogue.relu && !(out > 0)) out = 0;
      c[i * p.ldc + j] = static_cast<float>(out);
    }
  if (p.epilogue.sums) {  // of the stored C, per group of rows, in double
    PIX_CHECK(p.epilogue.group_rows > 0, "sgemm_reference: the epilogue's sums need group_rows > 0");
    for (int64_t g = 0; g * p.epilogue.group_rows < p.m; ++g)
      for (int64_t j = 0; j < p.n; ++j) {
        double sum = 0;
        for (int64_t i = g * p.epilogue.group_rows; i < std::min(p.m, (g + 1) * p.epilogue.group_rows); ++i)
          sum += c[i * p.ldc + j];
        p.epilogue.sums[g * p.n + j] += static_cast<float>(sum);
      }
  }
}

}  // namespace pix::cpu
