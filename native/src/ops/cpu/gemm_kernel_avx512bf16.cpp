// The bf16 SGEMM micro-kernel: up to 14 x 32 of C in 28 zmm accumulators, as the AVX-512 one, but
// each step takes a pair of k: two aligned loads of B (32 pairs) and one broadcast of an A pair per
// row feed one vdpbf16ps per accumulator, which adds both products into each f32 lane (twice the
// FMA's work per instruction). Also the packing that rounds f32 to bf16 with vcvtne2ps2bf16 and
// lays out the pairs (gemm_kernels.h). Compiled with -mavx512f/bw/dq/vl -mavx512bf16 -mfma
// (native/CMakeLists.txt, where the compiler has the flag) and called only on CPUs that have them.
//
// Nothing inline with external linkage is used here but intrinsics (gemm_kernels.h's helpers have
// internal linkage): such a function emitted by this file would carry AVX-512 code, and the linker
// could pick that copy for the whole engine.
#include <immintrin.h>

#include <cstring>
#include <utility>

#include "ops/cpu/gemm_kernels.h"

namespace pix::cpu::gemm {
namespace {

constexpr int MR = kAvx512Bf16MR;
constexpr int NR = kAvx512Bf16NR;
static_assert(NR == 32, "the kernel holds a row of C in two zmm registers");

// Lanes [0, n) of a 16-lane vector, for the right edge of C and the ends of rows.
__mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : n <= 0 ? 0 : static_cast<__mmask16>((1u << n) - 1);
}

// The same bits as a vector of 32 bf16s (GCC and Clang spell __m512bh differently; a copy works for both).
__m512bh as_bf16(__m512i v) {
  __m512bh out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}
__m512i as_int(__m512bh v) {
  __m512i out;
  std::memcpy(&out, &v, sizeof out);
  return out;
}

template <int ROWS, PanelLayout LAYOUT>
void tile_kernel(const MicroTileBf16& t) {
  // In bf16s: from row i's pair to row i + 1's, and from one pair of k to the next.
  constexpr int64_t row_step = LAYOUT == PanelLayout::RowMajor ? kPackedRowStrideBf16 : 2;
  constexpr int64_t pair_step = LAYOUT == PanelLayout::RowMajor ? 2 : 2 * MR;
  __m512 lo[ROWS], hi[ROWS];
#pragma GCC unroll 14
  for (int i = 0; i < ROWS; ++i) lo[i] = hi[i] = _mm512_setzero_ps();

#pragma GCC unroll 14
  for (int i = 0; i < ROWS; ++i) {  // C comes from DRAM (or is written there) while the loop runs
    __builtin_prefetch(t.c + i * t.ldc, 1, 3);
    __builtin_prefetch(t.c + i * t.ldc + t.cols - 1, 1, 3);
  }
  const Bf16* a = t.a;
  const Bf16* b = t.b;
  Prefetcher next_a(t.next_a), next_b(t.next_b);
  for (int64_t p = 0; p < t.kc; p += 2, a += pair_step, b += 2 * NR) {
    next_a.step(), next_a.step();  // the plans hold one address per k
    next_b.step(), next_b.step();
    const __m512bh b_lo = as_bf16(_mm512_load_si512(b)), b_hi = as_bf16(_mm512_load_si512(b + 2 * 16));
#pragma GCC unroll 14
    for (int i = 0; i < ROWS; ++i) {
      int32_t pair;
      std::memcpy(&pair, a + i * row_step, sizeof pair);
      const __m512bh a_i = as_bf16(_mm512_set1_epi32(pair));
      lo[i] = _mm512_dpbf16_ps(lo[i], a_i, b_lo);
      hi[i] = _mm512_dpbf16_ps(hi[i], a_i, b_hi);
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

// One instantiation per row count, so that edge panels (M % 14 rows) run without wasted work.
template <PanelLayout LAYOUT, int... R>
void run(const MicroTileBf16& t, std::integer_sequence<int, R...>) {
  static constexpr void (*kernels[])(const MicroTileBf16&) = {&tile_kernel<R + 1, LAYOUT>...};
  kernels[t.rows - 1](t);
}

// src[0, n) for n <= 32, rounded: bf16 j is src[j], zero past n.
__m512i convert32(const float* src, int64_t n) {
  const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(n), src);
  const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(n - 16), src + 16);
  return as_int(_mm512_cvtne2ps_pbh(hi, lo));
}

// GCC 12 warns that these shuffles read an uninitialized value: its own headers' placeholder for the
// unused merge operand (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// The rows r[0..16) of a 16 x 16 matrix of 32-bit lanes become its columns (four rounds of shuffles:
// 32-bit, 64-bit, then two of 128-bit blocks).
void transpose16x16(__m512i r[16]) {
  __m512i t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  // u[4g + c] holds, in 128-bit block l, column 4l + c of rows 4g .. 4g + 3.
  __m512i u[16];
#pragma GCC unroll 4
  for (int g = 0; g < 16; g += 4) {
    u[g] = _mm512_unpacklo_epi64(t[g], t[g + 2]);
    u[g + 1] = _mm512_unpackhi_epi64(t[g], t[g + 2]);
    u[g + 2] = _mm512_unpacklo_epi64(t[g + 1], t[g + 3]);
    u[g + 3] = _mm512_unpackhi_epi64(t[g + 1], t[g + 3]);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    const __m512i lo01 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x44), hi01 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xee);
    const __m512i lo23 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x44);
    const __m512i hi23 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xee);
    r[c] = _mm512_shuffle_i32x4(lo01, lo23, 0x88);
    r[c + 4] = _mm512_shuffle_i32x4(lo01, lo23, 0xdd);
    r[c + 8] = _mm512_shuffle_i32x4(hi01, hi23, 0x88);
    r[c + 12] = _mm512_shuffle_i32x4(hi01, hi23, 0xdd);
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The first n of 32 bf16s.
__mmask32 first_words(int64_t n) { return n >= 32 ? ~__mmask32{0} : (__mmask32{1} << n) - 1; }

}  // namespace

void micro_kernel_avx512bf16(const MicroTileBf16& tile) {
  if (tile.layout == PanelLayout::RowMajor)
    run<PanelLayout::RowMajor>(tile, std::make_integer_sequence<int, MR>{});
  else
    run<PanelLayout::KMajor>(tile, std::make_integer_sequence<int, MR>{});
}

void convert_avx512bf16(const float* src, int64_t n, Bf16* dst) {
  for (int64_t j = 0; j < n; j += 32) _mm512_mask_storeu_epi16(dst + j, first_words(n - j), convert32(src + j, n - j));
}

void interleave_avx512bf16(const float* row0, const float* row1, int64_t n, Bf16* dst) {
  // vcvtne2ps2bf16 puts row0's 16 in words 0..15 and row1's in 16..31; the pairs take them in turn.
  const __m512i pairs = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 mask = first_lanes(n - j);
    const __m512 r0 = _mm512_maskz_loadu_ps(mask, row0 + j);
    const __m512 r1 = row1 ? _mm512_maskz_loadu_ps(mask, row1 + j) : _mm512_setzero_ps();
    const __m512i words = _mm512_permutexvar_epi16(pairs, as_int(_mm512_cvtne2ps_pbh(r1, r0)));
    _mm512_mask_storeu_epi16(dst + 2 * j, first_words(2 * (n - j)), words);
  }
}

void pack_b_transposed_avx512bf16(const float* b, int64_t ldb, int64_t depth, int cols, int nr, Bf16* panel) {
  // Row j of B holds column j of the panel with its pairs of k already side by side: 16 rows, 32 k
  // of each rounded at a time, make a 16 x 16 matrix of pairs, whose transpose is 16 rows of pairs.
  const int64_t pairs = (depth + 1) / 2;
  for (int j0 = 0; j0 < nr; j0 += 16) {
    for (int64_t q0 = 0; q0 < depth; q0 += 32) {
      __m512i r[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        r[j] = j0 + j < cols ? convert32(b + (j0 + j) * ldb + q0, depth - q0) : _mm512_setzero_si512();
      transpose16x16(r);
      const int64_t rows = pairs - q0 / 2 < 16 ? pairs - q0 / 2 : 16;
      for (int64_t s = 0; s < rows; ++s) _mm512_storeu_si512(panel + ((q0 / 2 + s) * nr + j0) * 2, r[s]);
    }
  }
}

}  // namespace pix::cpu::gemm
