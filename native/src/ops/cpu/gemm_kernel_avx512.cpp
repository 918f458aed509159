// The AVX-512 SGEMM micro-kernel: up to 14 x 32 of C in 28 zmm accumulators; per k, two aligned
// loads of B and one broadcast of A per row feed one FMA per accumulator. Compiled with
// -mavx512f/bw/dq/vl -mfma (native/CMakeLists.txt) and called only on CPUs that have them.
//
// Nothing inline with external linkage is used here but intrinsics (gemm_kernels.h's Prefetcher has
// internal linkage): such a function emitted by this file would carry AVX-512 code, and the linker
// could pick that copy for the whole engine.
#include <immintrin.h>

#include <utility>

#include "ops/cpu/gemm_kernels.h"

namespace pix::cpu::gemm {
namespace {

constexpr int MR = kAvx512MR;
constexpr int NR = kAvx512NR;
static_assert(NR == 32, "the kernel holds a row of C in two zmm registers");

// Lanes [0, n) of a 16-lane vector, for the right edge of C.
__mmask16 first_lanes(int n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

template <int ROWS, PanelLayout LAYOUT>
void tile_kernel(const MicroTile& t) {
  constexpr int64_t row_step = LAYOUT == PanelLayout::RowMajor ? kPackedRowStride : 1;
  constexpr int64_t k_step = LAYOUT == PanelLayout::RowMajor ? 1 : MR;
  __m512 lo[ROWS], hi[ROWS];
#pragma GCC unroll 14
  for (int i = 0; i < ROWS; ++i) lo[i] = hi[i] = _mm512_setzero_ps();

#pragma GCC unroll 14
  for (int i = 0; i < ROWS; ++i) {  // C comes from DRAM (or is written there) while the loop runs
    __builtin_prefetch(t.c + i * t.ldc, 1, 3);
    __builtin_prefetch(t.c + i * t.ldc + t.cols - 1, 1, 3);
  }
  const float* a = t.a;
  const float* b = t.b;
  Prefetcher next_a(t.next_a), next_b(t.next_b);
  for (int64_t p = 0; p < t.kc; ++p, a += k_step, b += NR) {
    next_a.step();
    next_b.step();
    const __m512 b_lo = _mm512_load_ps(b), b_hi = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < ROWS; ++i) {
      const __m512 a_i = _mm512_set1_ps(a[i * row_step]);
      lo[i] = _mm512_fmadd_ps(a_i, b_lo, lo[i]);
      hi[i] = _mm512_fmadd_ps(a_i, b_hi, hi[i]);
    }
  }

  const __mmask16 mask_lo = first_lanes(t.cols), mask_hi = first_lanes(t.cols - 16);
  const __m512 alpha = _mm512_set1_ps(t.alpha), beta = _mm512_set1_ps(t.beta), zero = _mm512_setzero_ps();
  // The epilogue's bias rides in the first multiply-add (alpha * acc + 0 rounds as alpha * acc alone).
  const __m512 bias_lo = t.bias ? _mm512_maskz_loadu_ps(mask_lo, t.bias) : zero;
  const __m512 bias_hi = t.bias ? _mm512_maskz_loadu_ps(mask_hi, t.bias + 16) : zero;
#pragma GCC unroll 14
  for (int i = 0; i < ROWS; ++i) {
    float* c = t.c + i * t.ldc;
    __m512 out_lo = _mm512_fmadd_ps(alpha, lo[i], bias_lo), out_hi = _mm512_fmadd_ps(alpha, hi[i], bias_hi);
    if (t.beta != 0.f) {  // beta == 0 must not read C, which may hold NaN
      out_lo = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask_lo, c), out_lo);
      out_hi = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(mask_hi, c + 16), out_hi);
    }
    if (t.residual) {
      const float* r = t.residual + i * t.ldr;
      out_lo = _mm512_add_ps(out_lo, _mm512_maskz_loadu_ps(mask_lo, r));
      out_hi = _mm512_add_ps(out_hi, _mm512_maskz_loadu_ps(mask_hi, r + 16));
    }
    if (t.relu) {  // keeps out > 0 only: NaN becomes 0, as the engine's other ReLUs do
      out_lo = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(out_lo, zero, _CMP_GT_OQ), out_lo);
      out_hi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(out_hi, zero, _CMP_GT_OQ), out_hi);
    }
    _mm512_mask_storeu_ps(c, mask_lo, out_lo);
    _mm512_mask_storeu_ps(c + 16, mask_hi, out_hi);
  }
}

// One instantiation per row count, so that edge panels (M % 14 rows) run without wasted FMAs.
template <PanelLayout LAYOUT, int... R>
void run(const MicroTile& t, std::integer_sequence<int, R...>) {
  static constexpr void (*kernels[])(const MicroTile&) = {&tile_kernel<R + 1, LAYOUT>...};
  kernels[t.rows - 1](t);
}

}  // namespace

void micro_kernel_avx512(const MicroTile& tile) {
  if (tile.layout == PanelLayout::RowMajor)
    run<PanelLayout::RowMajor>(tile, std::make_integer_sequence<int, MR>{});
  else
    run<PanelLayout::KMajor>(tile, std::make_integer_sequence<int, MR>{});
}

}  // namespace pix::cpu::gemm
