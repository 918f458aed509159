// The SGEMM micro-kernels (one per SIMD level, each file compiled with its own ISA flags) and the
// packed-panel formats they read. Internal to ops/cpu/gemm.cpp, which packs, blocks and threads;
// a kernel only multiplies one packed A panel by one packed B panel into one tile of C.
#pragma once

#include <cstdint>

namespace pix::cpu::gemm {

// Depth of one packed block: an MR x KC panel of A (14 KB at MR = 14) stays in a 32 KB L1d while
// the kernel streams the B panel past it from L2.
constexpr int64_t kKC = 256;
// Row stride of a row-major packed A panel: 16 floats past KC, so that the rows of a panel do not
// fall into the same L1 sets (a 256-float stride maps every fourth row onto the same sets).
constexpr int64_t kPackedRowStride = kKC + 16;

// Register tiles: C is MR x NR per call, NR along the vector lanes (C and packed B rows).
constexpr int kAvx512MR = 14, kAvx512NR = 32;      // 28 zmm accumulators + 2 for B
constexpr int kAvx2MR = 6, kAvx2NR = 16;           // 12 ymm accumulators + 2 for B
constexpr int kPortableMR = 6, kPortableNR = 8;    // 12 SSE2/NEON accumulators + 2 for B

// How a packed A panel holds element (i, p): RowMajor at a[i * kPackedRowStride + p] (packed from A
// stored (M,K)); KMajor at a[p * MR + i] (packed from A stored (K,M)). Both packs are plain copies.
enum class PanelLayout { RowMajor, KMajor };

// Addresses for a kernel to prefetch into L2 as it goes, one per k step: `rows` rows of `per_row`
// addresses `step` floats apart, the rows `stride` floats apart. The driver points them at what it
// packs next, which comes from DRAM: read in one burst by the packing copy, it would stall the core.
struct PrefetchPlan {
  const float* base = nullptr;
  int64_t stride = 0, step = 0;
  int64_t rows = 0, per_row = 0;
};

// One kernel call: C (rows x cols) = alpha * A panel (rows x kc) * B panel (kc x cols) + beta * C.
// beta == 0 writes C without reading it.
struct MicroTile {
  int64_t kc;
  const float* a;
  PanelLayout layout;
  const float* b;  // kc rows of NR floats, 64-byte aligned, zero past `cols`
  float* c;
  int64_t ldc;
  int rows, cols;  // 1..MR, 1..NR
  float alpha, beta;
  PrefetchPlan next_a, next_b;  // the portable kernel ignores them: it is compute-bound
};

void micro_kernel_avx512(const MicroTile& tile);  // needs AVX-512 F/BW/DQ/VL and FMA
void micro_kernel_avx2(const MicroTile& tile);    // needs AVX2 and FMA
void micro_kernel_portable(const MicroTile& tile);

// One B panel from B stored (N,K), a transpose: panel[q * nr + j] = b[j * ldb + q] for q < depth and
// j < cols, zero for cols <= j < nr. The AVX2 one (8 x 8 register transposes, nr a multiple of 8)
// also serves the AVX-512 level; the portable one is a plain loop.
void pack_b_transposed_avx2(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel);
void pack_b_transposed_portable(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel);

namespace {  // internal linkage on purpose: each kernel file compiles its own copy with its ISA flags

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
