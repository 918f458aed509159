// The AVX2 SGEMM micro-kernel: up to 6 x 16 of C in 12 ymm accumulators; per k, two aligned loads
// of B and one broadcast of A per row feed one FMA per accumulator. Compiled with -mavx2 -mfma
// (native/CMakeLists.txt) and called only on CPUs that have them.
//
// Nothing inline with external linkage is used here but intrinsics (gemm_kernels.h's Prefetcher has
// internal linkage): such a function emitted by this file would carry AVX2 code, and the linker
// could pick that copy for the whole engine.
#include <immintrin.h>

#include <utility>

#include "ops/cpu/gemm_kernels.h"

namespace pix::cpu::gemm {
namespace {

constexpr int MR = kAvx2MR;
constexpr int NR = kAvx2NR;
static_assert(NR == 16, "the kernel holds a row of C in two ymm registers");

// All-ones in lanes [0, n) of an 8-lane mask for maskload/maskstore, for the right edge of C.
__m256i first_lanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

template <int ROWS, PanelLayout LAYOUT>
void tile_kernel(const MicroTile& t) {
  constexpr int64_t row_step = LAYOUT == PanelLayout::RowMajor ? kPackedRowStride : 1;
  constexpr int64_t k_step = LAYOUT == PanelLayout::RowMajor ? 1 : MR;
  __m256 lo[ROWS], hi[ROWS];
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i) lo[i] = hi[i] = _mm256_setzero_ps();

#pragma GCC unroll 6
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
    const __m256 b_lo = _mm256_load_ps(b), b_hi = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; ++i) {
      const __m256 a_i = _mm256_broadcast_ss(a + i * row_step);
      lo[i] = _mm256_fmadd_ps(a_i, b_lo, lo[i]);
      hi[i] = _mm256_fmadd_ps(a_i, b_hi, hi[i]);
    }
  }

  const __m256i mask_lo = first_lanes(t.cols), mask_hi = first_lanes(t.cols - 8);
  const __m256 alpha = _mm256_set1_ps(t.alpha), beta = _mm256_set1_ps(t.beta), zero = _mm256_setzero_ps();
  // The epilogue's bias rides in the first multiply-add (alpha * acc + 0 rounds as alpha * acc alone).
  const __m256 bias_lo = t.bias ? _mm256_maskload_ps(t.bias, mask_lo) : zero;
  const __m256 bias_hi = t.bias ? _mm256_maskload_ps(t.bias + 8, mask_hi) : zero;
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i) {
    float* c = t.c + i * t.ldc;
    __m256 out_lo = _mm256_fmadd_ps(alpha, lo[i], bias_lo), out_hi = _mm256_fmadd_ps(alpha, hi[i], bias_hi);
    if (t.beta != 0.f) {  // beta == 0 must not read C, which may hold NaN
      out_lo = _mm256_fmadd_ps(beta, _mm256_maskload_ps(c, mask_lo), out_lo);
      out_hi = _mm256_fmadd_ps(beta, _mm256_maskload_ps(c + 8, mask_hi), out_hi);
    }
    if (t.residual) {
      const float* r = t.residual + i * t.ldr;
      out_lo = _mm256_add_ps(out_lo, _mm256_maskload_ps(r, mask_lo));
      out_hi = _mm256_add_ps(out_hi, _mm256_maskload_ps(r + 8, mask_hi));
    }
    if (t.relu) {  // max(out, 0) gives 0 for NaN, as the engine's other ReLUs do
      out_lo = _mm256_max_ps(out_lo, zero);
      out_hi = _mm256_max_ps(out_hi, zero);
    }
    _mm256_maskstore_ps(c, mask_lo, out_lo);
    _mm256_maskstore_ps(c + 8, mask_hi, out_hi);
  }
}

// Rows r[0..8) become columns, in registers.
void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xee);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xee);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xee);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xee);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20), r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20), r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20), r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20), r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// One instantiation per row count, so that edge panels (M % 6 rows) run without wasted FMAs.
template <PanelLayout LAYOUT, int... R>
void run(const MicroTile& t, std::integer_sequence<int, R...>) {
  static constexpr void (*kernels[])(const MicroTile&) = {&tile_kernel<R + 1, LAYOUT>...};
  kernels[t.rows - 1](t);
}

}  // namespace

void micro_kernel_avx2(const MicroTile& tile) {
  if (tile.layout == PanelLayout::RowMajor)
    run<PanelLayout::RowMajor>(tile, std::make_integer_sequence<int, MR>{});
  else
    run<PanelLayout::KMajor>(tile, std::make_integer_sequence<int, MR>{});
}

void pack_b_transposed_avx2(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel) {
  const int64_t full = depth / 8 * 8;
  for (int j0 = 0; j0 < nr; j0 += 8) {  // 8 rows of B, 8 k at a time
    for (int64_t q0 = 0; q0 < full; q0 += 8) {
      __m256 r[8];
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j)
        r[j] = j0 + j < cols ? _mm256_loadu_ps(b + (j0 + j) * ldb + q0) : _mm256_setzero_ps();
      transpose8x8(r);
#pragma GCC unroll 8
      for (int q = 0; q < 8; ++q) _mm256_storeu_ps(panel + (q0 + q) * nr + j0, r[q]);
    }
    for (int64_t q = full; q < depth; ++q)
      for (int j = j0; j < j0 + 8; ++j) panel[q * nr + j] = j < cols ? b[j * ldb + q] : 0.f;
  }
}

}  // namespace pix::cpu::gemm
