// The portable SGEMM micro-kernel: up to 6 x 8 of C in twelve 4-float vectors, written with the
// GCC/Clang vector extension, which lowers to SSE2 on x86-64 and NEON on arm64 (plain loops over a
// C tile get their accumulators spilled to memory). It runs on CPUs without AVX2 and on other
// architectures: correct everywhere, fast nowhere in particular.
#include <cstring>
#include <utility>

#include "ops/cpu/gemm_kernels.h"

namespace pix::cpu::gemm {
namespace {

constexpr int MR = kPortableMR;
constexpr int NR = kPortableNR;
static_assert(NR == 8, "the kernel holds a row of C in two 4-float vectors");

using Vec4 = float __attribute__((vector_size(16)));

Vec4 load(const float* p) {
  Vec4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int ROWS, PanelLayout LAYOUT>
void tile_kernel(const MicroTile& t) {
  constexpr int64_t row_step = LAYOUT == PanelLayout::RowMajor ? kPackedRowStride : 1;
  constexpr int64_t k_step = LAYOUT == PanelLayout::RowMajor ? 1 : MR;
  Vec4 lo[ROWS] = {}, hi[ROWS] = {};
  const float* a = t.a;
  const float* b = t.b;
  for (int64_t p = 0; p < t.kc; ++p, a += k_step, b += NR) {
    const Vec4 b_lo = load(b), b_hi = load(b + 4);
    for (int i = 0; i < ROWS; ++i) {
      const float a_i = a[i * row_step];
      lo[i] += a_i * b_lo;
      hi[i] += a_i * b_hi;
    }
  }
  for (int i = 0; i < ROWS; ++i) {
    float* c = t.c + i * t.ldc;
    float row[NR];
    std::memcpy(row, &lo[i], sizeof lo[i]);
    std::memcpy(row + 4, &hi[i], sizeof hi[i]);
    if (t.beta == 0.f)  // beta == 0 must not read C, which may hold NaN
      for (int j = 0; j < t.cols; ++j) c[j] = t.alpha * row[j];
    else
      for (int j = 0; j < t.cols; ++j) c[j] = t.alpha * row[j] + t.beta * c[j];
    if (t.bias)
      for (int j = 0; j < t.cols; ++j) c[j] += t.bias[j];
    if (t.residual)
      for (int j = 0; j < t.cols; ++j) c[j] += t.residual[i * t.ldr + j];
    if (t.relu)
      for (int j = 0; j < t.cols; ++j) c[j] = c[j] > 0.f ? c[j] : 0.f;
  }
}

// One instantiation per row count, so that edge panels (M % 6 rows) run without wasted work.
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

void pack_b_transposed_portable(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel) {
  for (int j = 0; j < cols; ++j)
    for (int64_t q = 0; q < depth; ++q) panel[q * nr + j] = b[j * ldb + q];
  for (int64_t q = 0; q < depth; ++q)
    for (int j = cols; j < nr; ++j) panel[q * nr + j] = 0.f;
}

}  // namespace pix::cpu::gemm
