// Single-precision matrix multiply, the workhorse of convolutions and the classifier on the CPU.
//
//   C (M,N) = alpha * op(A) * op(B) + beta * C,   row-major,
//   op(A) is (M,K): A stored (M,K) with lda >= K, or, when trans_a, stored (K,M) with lda >= M;
//   op(B) is (K,N): B stored (K,N) with ldb >= N, or, when trans_b, stored (N,K) with ldb >= K.
// beta = 0 overwrites C without reading it (C may hold NaN garbage); alpha = 0 or k = 0 reads
// neither A nor B (C = beta * C), as in BLAS.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"

namespace pix {

struct GemmParams {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.f;
  float beta = 0.f;
  int64_t lda = 0, ldb = 0, ldc = 0;
};

// Threaded over the engine's pool, dispatched at run time to the best SIMD kernel the CPU has.
void sgemm(const GemmParams& params, const float* a, const float* b, float* c);

namespace cpu {
// The plain triple loop (double accumulation) that the fast kernels are tested against.
void sgemm_reference(const GemmParams& params, const float* a, const float* b, float* c);
// sgemm on the micro-kernel of one SIMD level, which the host CPU must have: tests check each level.
void sgemm_simd(const GemmParams& params, SimdLevel level, const float* a, const float* b, float* c);
}  // namespace cpu

}  // namespace pix
