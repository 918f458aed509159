// The SGEMM micro-kernels (one per SIMD level, plus the bf16 one, each file compiled with its own
// ISA flags) and the packed-panel formats they read. Internal to ops/cpu/gemm.cpp, which packs,
// blocks and threads; a kernel only multiplies one packed A panel by one packed B panel into one
// tile of C.
#pragma once

#include <cstdint>
#include <cstring>

namespace pix::cpu::gemm {

// Depth of one packed block: an MR x KC panel of A (14 KB at MR = 14) stays in a 32 KB L1d while
// the kernel streams the B panel past it from L2.
constexpr int64_t kKC = 256;
// Row stride of a row-major packed A panel: 16 floats past KC, so that the rows of a panel do not
// fall into the same L1 sets (a 256-float stride maps every fourth row onto the same sets).
constexpr int64_t kPackedRowStride = kKC + 16;
// The same for a bf16 panel, in bf16s: 576 bytes, nine cache lines, so that the kernel's 14 reads at
// one k fall into 14 different L1 sets.
constexpr int64_t kPackedRowStrideBf16 = kKC + 32;

// Register tiles: C is MR x NR per call, NR along the vector lanes (C and packed B rows).
constexpr int kAvx512MR = 14, kAvx512NR = 32;      // 28 zmm accumulators + 2 for B
constexpr int kAvx2MR = 6, kAvx2NR = 16;           // 12 ymm accumulators + 2 for B
constexpr int kPortableMR = 6, kPortableNR = 8;    // 12 SSE2/NEON accumulators + 2 for B
constexpr int kAvx512Bf16MR = 14, kAvx512Bf16NR = 32;  // as AVX-512, each lane summing a pair of k per step

// A bf16 number: the upper half of an f32's bits.
using Bf16 = uint16_t;

// How a packed A panel holds element (i, p): RowMajor at a[i * kPackedRowStride + p] (packed from A
// stored (M,K)); KMajor at a[p * MR + i] (packed from A stored (K,M)). Both packs are copies (of
// values rounded to bf16 when the f32 kernels run BF16 products).
// A packed B panel holds element (q, j) at b[q * NR + j].
//
// bf16 panels keep each pair of k (2s, 2s + 1) side by side, the two halves of one 32-bit lane of
// vdpbf16ps: RowMajor A at a[i * kPackedRowStrideBf16 + p], KMajor A at a[(p / 2) * 2 * MR + 2 * i
// + p % 2], B at b[(q / 2) * 2 * NR + 2 * j + q % 2]. An odd depth gets a zero k to end its last pair.
enum class PanelLayout { RowMajor, KMajor };

// Addresses for a kernel to prefetch into L2 as it goes, one per k step: `rows` rows of `per_row`
// addresses `step` floats apart, the rows `stride` floats apart. The driver points them at what it
// packs next, which comes from DRAM: read in one burst by the packing copy, it would stall the core.
struct PrefetchPlan {
  const float* base = nullptr;
  int64_t stride = 0, step = 0;
  int64_t rows = 0, per_row = 0;
};

// One kernel call: C (rows x cols) = alpha * A panel (rows x kc) * B panel (kc x cols) + beta * C,
// then, on the last block of K only, the epilogue (ops/gemm.h): + bias[j] + residual[i * ldr + j],
// ReLU, each where set (bias and residual point at this tile's first column and row).
// beta == 0 writes C without reading it. Element: float, or Bf16 for the bf16 kernel.
template <typename Element>
struct Tile {
  int64_t kc;
  const Element* a;
  PanelLayout layout;
  const Element* b;  // the B panel from this tile's first k, 64-byte aligned, zero past `cols`
  float* c;
  int64_t ldc;
  int rows, cols;  // 1..MR, 1..NR
  float alpha, beta;
  const float* bias;      // null: none
  const float* residual;  // null: none
  int64_t ldr;
  bool relu;
  PrefetchPlan next_a, next_b;  // one address per k; the portable kernel ignores them: it is compute-bound
};
using MicroTile = Tile<float>;
using MicroTileBf16 = Tile<Bf16>;

void micro_kernel_avx512(const MicroTile& tile);  // needs AVX-512 F/BW/DQ/VL and FMA
void micro_kernel_avx2(const MicroTile& tile);    // needs AVX2 and FMA
void micro_kernel_portable(const MicroTile& tile);
void micro_kernel_avx512bf16(const MicroTileBf16& tile);  // needs AVX-512 F/BW/DQ/VL, AVX512_BF16 and FMA

// One B panel from B stored (N,K), a transpose: panel[q * nr + j] = b[j * ldb + q] for q < depth and
// j < cols, zero for cols <= j < nr. The AVX2 one (8 x 8 register transposes, nr a multiple of 8)
// also serves the AVX-512 level; the portable one is a plain loop.
void pack_b_transposed_avx2(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel);
void pack_b_transposed_portable(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel);

// The bf16 kernel's packing, with vcvtne2ps2bf16 (same CPU needs): dst[j] = bf16(src[j]) for j < n;
// two rows of k as pairs, dst[2j] = bf16(row0[j]) and dst[2j + 1] = bf16(row1[j]), or 0 where row1
// is null (past an odd depth); and a B panel from B stored (N,K), zero past `cols` and `depth`
// (16 x 16 register transposes of pairs, nr a multiple of 16).
void convert_avx512bf16(const float* src, int64_t n, Bf16* dst);
void interleave_avx512bf16(const float* row0, const float* row1, int64_t n, Bf16* dst);
void pack_b_transposed_avx512bf16(const float* b, int64_t ldb, int64_t depth, int cols, int nr, Bf16* panel);

namespace {  // internal linkage on purpose: each kernel file compiles its own copy with its ISA flags

// x rounded to bf16 as vcvtne2ps2bf16 rounds it: to nearest even, denormals to zero, NaN kept quiet.
// Selects rather than branches, so that loops over it vectorize.
inline Bf16 round_to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const uint32_t nearest_even = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const uint32_t signed_zero = (bits >> 16) & 0x8000u, quiet_nan = (bits >> 16) | 0x0040u;
  const uint32_t magnitude = bits & 0x7fffffffu;
  return static_cast<Bf16>(magnitude < 0x00800000u ? signed_zero : magnitude > 0x7f800000u ? quiet_nan : nearest_even);
}

// A bf16 number as the f32 it stands for (exactly).
inline float bf16_to_float(Bf16 x) {
  const uint32_t bits = static_cast<uint32_t>(x) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// Walks a PrefetchPlan, one address per step().
class Prefetcher {
 public:
  explicit Prefetcher(const PrefetchPlan& plan) : plan_(plan) {}
  void step() {
    if (row_ >= plan_.rows) return;
    __builtin_prefetch(plan_.base + row_ * plan_.stride + col_ * plan_.step, 0, 2);
    if (++col_ == plan_.per_row) col_ = 0, ++row_;
  }

 private:
  const PrefetchPlan plan_;
  int64_t row_ = 0, col_ = 0;
};

}  // namespace

}  // namespace pix::cpu::gemm
