// CPU kernels compiled once per SIMD level and picked at run time. The engine's sources build for
// baseline x86-64; a hot loop that would gain from wider vectors is written once as an always-inline
// function (PIX_INLINE), and PIX_SIMD_BODIES(BODY) expands BODY(name, attributes) for every level the
// build targets, each a small function under `attributes` that calls it, so the loop is inlined and
// vectorised at that level. host_body() returns the host's (cpu_features, capped by PIX_SIMD).
//
// The attributes do not reach lambdas: a parallel_for's lambda calls the body, never the loop itself.
#pragma once

#include "core/cpu_features.h"

#define PIX_INLINE inline __attribute__((always_inline))

#if PIX_GEMM_X86_KERNELS
#define PIX_SIMD_BODIES(BODY)                                                        \
  BODY(portable, )                                                                   \
  BODY(avx2, __attribute__((target("avx2,fma"))))                                    \
  BODY(avx512, __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))))    \
  const auto& host_body() {                                                          \
    switch (cpu_features().simd) {                                                   \
      case SimdLevel::AVX512:                                                        \
        return avx512_body;                                                          \
      case SimdLevel::AVX2:                                                          \
        return avx2_body;                                                            \
      default:                                                                       \
        return portable_body;                                                        \
    }                                                                                \
  }
#else
#define PIX_SIMD_BODIES(BODY) \
  BODY(portable, )            \
  const auto& host_body() { return portable_body; }
#endif
