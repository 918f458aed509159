// The AVX2 SGEMM micro-kernel: up to 6 x 16 of C in 12 ymm accumulators; per k, two aligned loads
// of B and one broadcast of A per row feed one FMA per accumulator. Compiled with -mavx2 -mfma
// (native/CMakeLists.txt) and called only on CPUs that have them.
//
// Nothing inline from other headers but intrinsics is used here: an inline function emitted by this
// file would carry AVX2 code, and the linker could pick that copy for the whole engine.
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

  const float* a = t.a;
  const float* b = t.b;
  int64_t fetch_row = 0, fetch_col = 0;
  for (int64_t p = 0; p < t.kc; ++p, a += k_step, b += NR) {
    if (fetch_row < t.prefetch.rows) {
      __builtin_prefetch(t.prefetch.base + fetch_row * t.prefetch.stride + fetch_col * t.prefetch.step, 0, 2);
      if (++fetch_col == t.prefetch.per_row) fetch_col = 0, ++fetch_row;
    }
    const __m256 b_lo = _mm256_load_ps(b), b_hi = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; ++i) {
      const __m256 a_i = _mm256_broadcast_ss(a + i * row_step);
      lo[i] = _mm256_fmadd_ps(a_i, b_lo, lo[i]);
      hi[i] = _mm256_fmadd_ps(a_i, b_hi, hi[i]);
    }
  }

  const __m256i mask_lo = first_lanes(t.cols), mask_hi = first_lanes(t.cols - 8);
  const __m256 alpha = _mm256_set1_ps(t.alpha), beta = _mm256_set1_ps(t.beta);
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i) {
    float* c = t.c + i * t.ldc;
    __m256 out_lo = _mm256_mul_ps(alpha, lo[i]), out_hi = _mm256_mul_ps(alpha, hi[i]);
    if (t.beta != 0.f) {  // beta == 0 must not read C, which may hold NaN
      out_lo = _mm256_fmadd_ps(beta, _mm256_maskload_ps(c, mask_lo), out_lo);
      out_hi = _mm256_fmadd_ps(beta, _mm256_maskload_ps(c + 8, mask_hi), out_hi);
    }
    _mm256_maskstore_ps(c, mask_lo, out_lo);
    _mm256_maskstore_ps(c + 8, mask_hi, out_hi);
  }
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

}  // namespace pix::cpu::gemm
