// The portable SGEMM micro-kernel: up to 4 x 16 of C in plain C++ loops with fixed trip counts,
// which the compiler vectorises for the baseline ISA (SSE2 on x86-64, NEON on arm64). It runs on
// CPUs without AVX2 and on other architectures; it is correct everywhere, fast nowhere in particular.
#include <utility>

#include "ops/cpu/gemm_kernels.h"

namespace pix::cpu::gemm {
namespace {

constexpr int MR = kPortableMR;
constexpr int NR = kPortableNR;

template <int ROWS, PanelLayout LAYOUT>
void tile_kernel(const MicroTile& t) {
  constexpr int64_t row_step = LAYOUT == PanelLayout::RowMajor ? kPackedRowStride : 1;
  constexpr int64_t k_step = LAYOUT == PanelLayout::RowMajor ? 1 : MR;
  float acc[ROWS][NR] = {};
  const float* a = t.a;
  const float* b = t.b;
  for (int64_t p = 0; p < t.kc; ++p, a += k_step, b += NR)
    for (int i = 0; i < ROWS; ++i) {
      const float a_i = a[i * row_step];
      for (int j = 0; j < NR; ++j) acc[i][j] += a_i * b[j];
    }
  for (int i = 0; i < ROWS; ++i) {
    float* c = t.c + i * t.ldc;
    if (t.beta == 0.f)  // beta == 0 must not read C, which may hold NaN
      for (int j = 0; j < t.cols; ++j) c[j] = t.alpha * acc[i][j];
    else
      for (int j = 0; j < t.cols; ++j) c[j] = t.alpha * acc[i][j] + t.beta * c[j];
  }
}

// One instantiation per row count, so that edge panels (M % 4 rows) run without wasted work.
template <PanelLayout LAYOUT, int... R>
void run(const MicroTile& t, std::integer_sequence<int, R...>) {
  static constexpr void (*kernels[])(const MicroTile&) = {&tile_kernel<R + 1, LAYOUT>...};
  kernels[t.rows - 1](t);
}

}  // namespace

void micro_kernel_portable(const MicroTile& tile) {
  if (tile.layout == PanelLayout::RowMajor)
    run<PanelLayout::RowMajor>(tile, std::make_integer_sequence<int, MR>{});
  else
    run<PanelLayout::KMajor>(tile, std::make_integer_sequence<int, MR>{});
}

}  // namespace pix::cpu::gemm
