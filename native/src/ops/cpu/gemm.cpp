// The CPU SGEMM of ops/gemm.h: argument checks, packing, cache blocking and threading around one
// micro-kernel per SIMD level (gemm_kernel_*.cpp), picked at run time from cpu_features(), and the
// bf16 one (vdpbf16ps) for BF16 precision. Not here: the register-level code (the kernels), batched
// GEMM, dtypes other than f32 in memory.
//
// The loop nest follows GotoBLAS/BLIS, with C row-major and the kernels' vector lanes along N:
//   for each K super-block:          B packed into NR-wide panels, shared by all threads
//     parallel over tiles of C:      up to MC x NC each, cut smaller until every thread has several
//       for each KC block:           the tile's packed B (KC x NC, 512 KB) stays in L2
//         for each MR-row panel:     A packed into this thread's 14 KB buffer, which stays in L1
//           for each NR panel:       one micro-kernel call, which also prefetches the next A panel
// When C has too few tiles for the threads but K is deep (weight gradients), each thread instead runs
// the nest alone on a slice of K (and, with few rows of C, prefetches the next block of B too); the
// partial products are then summed.
//
// BF16 changes only what the panels hold (the Panels kinds below): A and B are rounded as they are
// packed, and the blocking is the same, in elements of k.
//
// With GemmWindows, A is a convolution's im2col matrix, gathered from the image as its panels are
// packed (implicit GEMM); nothing else changes.
//
// The epilogue (bias, residual, ReLU) runs in the kernel call of a tile's last K block, on the
// accumulators before the one store; where C is finished outside the kernels (k == 0, or the sum of
// split-K partials) it runs on each row as the row is finished. Its group sums are added from each
// finished tile while it is in L1, into sums private to the run of tiles (one thread's), which are
// summed at the end; where C is finished outside the kernels, by a pass over C per group.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/cpu/gemm_kernels.h"
#include "ops/cpu/scratch.h"
#include "ops/gemm.h"

namespace pix {
namespace {

using cpu::gemm::Bf16;
using cpu::gemm::kKC;
using cpu::gemm::kPackedRowStride;
using cpu::gemm::kPackedRowStrideBf16;
using cpu::gemm::MicroTile;
using cpu::gemm::MicroTileBf16;
using cpu::gemm::PanelLayout;
using cpu::gemm::PrefetchPlan;

// Columns per tile: a KC x NC block of packed f32 B is 512 KB, half of a 1 MB L2.
constexpr int64_t kNC = 512;
// Rows per tile (rounded down to MR): the MC x NC block of C (256 KB) stays in L2 beside B between KC blocks.
constexpr int64_t kMC = 128;
// The share of a 1 MB L2 that packed B and the next block of B may use (768 KB).
constexpr int64_t kL2Bytes = 768 * 1024;
// Rows of C below which packing a block of B from DRAM costs more than ~3% of multiplying it, so
// that a thread working alone prefetches it during the previous block.
constexpr int64_t kPrefetchBRows = 512;
// Packed B per K super-block (16 MB): bounds the scratch for weight gradients, where K is the number
// of pixels.
constexpr int64_t kMaxPackedBBytes = int64_t{16} << 20;
// Tiles wanted per thread: several, so that edge tiles and a core shared with another process balance.
constexpr int64_t kTilesPerThread = 4;
// K blocks per thread at least before K is split across threads: fewer would not pay for the partial sums.
constexpr int64_t kMinSplitBlocks = 4;
// Multiply-adds below which the product runs on the caller alone (about 20 us of one core): waking
// the pool would cost more than it saves.
constexpr int64_t kMinParallelMacs = int64_t{1} << 20;
// Floats copied per parallel_for chunk at least when packing or scaling: less is not worth a wake-up.
constexpr int64_t kCopyGrain = int64_t{1} << 16;

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }
int64_t round_up(int64_t x, int64_t y) { return ceil_div(x, y) * y; }

// One of each per thread, shared by all kernels (a thread runs one sgemm at a time).
cpu::Scratch& packed_b_scratch() {
  thread_local cpu::Scratch scratch;
  return scratch;
}
cpu::Scratch& packed_a_scratch() {
  thread_local cpu::Scratch scratch;
  return scratch;
}
cpu::Scratch& partial_scratch() {
  thread_local cpu::Scratch scratch;
  return scratch;
}

// ---- What the packed panels hold, and the routines that pack them ----
// Each kind names its Element, kPair (the k steps in one packed group: vdpbf16ps takes k in pairs),
// the row stride of a row-major A panel, its kernel (multiply) and its packing: convert (a contiguous
// run of one row of A or B), interleave (two rows of k as pairs; pairs only) and pack_b_transposed
// (a B panel from B stored (N,K)).
using PackBTransposedF32 = void (*)(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel);

// Plain f32 copies, for the f32 kernels.
struct F32Panels {
  using Element = float;
  static constexpr const char* kName = "f32";
  static constexpr int64_t kPair = 1, kRowStride = kPackedRowStride;
  void (*multiply)(const MicroTile&);
  PackBTransposedF32 pack_b_transposed;  // the SIMD level's
  static void convert(const float* src, int64_t n, float* dst) { std::memcpy(dst, src, n * sizeof(float)); }
};

// f32 rounded to bf16 values, for the f32 kernels: BF16 without vdpbf16ps. The product of two bf16
// values is exact in f32, so the f32 kernels sum the same products as vdpbf16ps. Plain loops: this
// is the same approximation everywhere, not a fast path.
struct RoundedF32Panels {
  using Element = float;
  static constexpr const char* kName = "f32 of bf16 values";
  static constexpr int64_t kPair = 1, kRowStride = kPackedRowStride;
  void (*multiply)(const MicroTile&);
  static float rounded(float x) { return cpu::gemm::bf16_to_float(cpu::gemm::round_to_bf16(x)); }
  static void convert(const float* src, int64_t n, float* dst) {
    for (int64_t j = 0; j < n; ++j) dst[j] = rounded(src[j]);
  }
  static void pack_b_transposed(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel) {
    for (int64_t q = 0; q < depth; ++q)
      for (int j = 0; j < nr; ++j) panel[q * nr + j] = j < cols ? rounded(b[j * ldb + q]) : 0.f;
  }
};

#if PIX_GEMM_BF16_KERNEL
// bf16 pairs, for vdpbf16ps (gemm_kernel_avx512bf16.cpp).
struct Bf16Panels {
  using Element = Bf16;
  static constexpr const char* kName = "bf16 pairs";
  static constexpr int64_t kPair = 2, kRowStride = kPackedRowStrideBf16;
  void (*multiply)(const MicroTileBf16&) = cpu::gemm::micro_kernel_avx512bf16;
  void (*convert)(const float* src, int64_t n, Bf16* dst) = cpu::gemm::convert_avx512bf16;
  void (*interleave)(const float* row0, const float* row1, int64_t n, Bf16* dst) = cpu::gemm::interleave_avx512bf16;
  void (*pack_b_transposed)(const float* b, int64_t ldb, int64_t depth, int cols, int nr, Bf16* panel) =
      cpu::gemm::pack_b_transposed_avx512bf16;
};
#endif

const char* shape_of_a(const GemmParams& p) { return p.trans_a ? "(K,M)" : "(M,K)"; }
const char* shape_of_b(const GemmParams& p) { return p.trans_b ? "(N,K)" : "(K,N)"; }

void check_args(const GemmParams& p, const float* a, const float* b, const float* c) {
  PIX_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0, "sgemm: sizes must not be negative, got m=", p.m, " n=", p.n,
            " k=", p.k);
  if (const GemmWindows& g = p.windows; g.x != nullptr) {
    PIX_CHECK(!p.trans_a && a == nullptr, "sgemm: A given as windows must not be transposed nor stored too");
    PIX_CHECK(g.k_offset + p.k <= g.kernel * g.kernel * g.c, "sgemm: K=", p.k,
              " runs past the windows' ", g.kernel * g.kernel * g.c, " columns");
    a = g.x;  // what the checks below need of A: that it exists
  }
  const int64_t a_row = p.windows.x ? 0 : p.trans_a ? p.m : p.k;
  const int64_t b_row = p.trans_b ? p.k : p.n;
  PIX_CHECK(p.lda >= a_row, "sgemm: lda=", p.lda, " is shorter than a row of A, stored ", shape_of_a(p), " with ",
            a_row, " columns");
  PIX_CHECK(p.ldb >= b_row, "sgemm: ldb=", p.ldb, " is shorter than a row of B, stored ", shape_of_b(p), " with ",
            b_row, " columns");
  PIX_CHECK(p.ldc >= p.n, "sgemm: ldc=", p.ldc, " is shorter than a row of C (M,N) with ", p.n, " columns");
  PIX_CHECK(a != nullptr || p.m == 0 || p.k == 0, "sgemm: A is null but ", shape_of_a(p), " has m=", p.m, " k=", p.k);
  PIX_CHECK(b != nullptr || p.k == 0 || p.n == 0, "sgemm: B is null but ", shape_of_b(p), " has k=", p.k, " n=", p.n);
  PIX_CHECK(c != nullptr || p.m == 0 || p.n == 0, "sgemm: C is null but (M,N) has m=", p.m, " n=", p.n);
  PIX_CHECK(p.epilogue.sums == nullptr || p.epilogue.group_rows > 0, "sgemm: the epilogue's sums need group_rows > 0");
  PIX_CHECK(p.epilogue.residual == nullptr || p.epilogue.ldr >= p.n, "sgemm: the epilogue's ldr=", p.epilogue.ldr,
            " is shorter than a row of C (M,N) with ", p.n, " columns");
}

// Row i of C (n values), finished: + bias + residual, ReLU, as the epilogue says.
void finish_row(const GemmEpilogue& e, int64_t i, int64_t n, float* row) {
  if (e.bias)
    for (int64_t j = 0; j < n; ++j) row[j] += e.bias[j];
  if (e.residual)
    for (int64_t j = 0; j < n; ++j) row[j] += e.residual[i * e.ldr + j];
  if (e.relu)
    for (int64_t j = 0; j < n; ++j) row[j] = row[j] > 0.f ? row[j] : 0.f;
}

// The epilogue's group sums of a finished C, one parallel task per group (no two write one sum).
void add_group_sums(const GemmParams& p, const float* c) {
  const GemmEpilogue& e = p.epilogue;
  if (!e.sums) return;
  const int64_t groups = ceil_div(p.m, e.group_rows);
  parallel_for(groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g)
      for (int64_t i = g * e.group_rows; i < std::min(p.m, (g + 1) * e.group_rows); ++i)
        for (int64_t j = 0; j < p.n; ++j) e.sums[g * p.n + j] += c[i * p.ldc + j];
  });
}

// C = beta * C, then the epilogue, for k == 0 or alpha == 0 (A and B are not read, as in BLAS).
// beta == 0 writes zeros.
void scale_c(const GemmParams& p, float* c) {
  if (p.beta == 1.f && !p.epilogue.active()) return;
  parallel_for(p.m, ceil_div(kCopyGrain, p.n), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* row = c + i * p.ldc;
      if (p.beta == 0.f)
        std::fill(row, row + p.n, 0.f);
      else if (p.beta != 1.f)
        for (int64_t j = 0; j < p.n; ++j) row[j] *= p.beta;
      finish_row(p.epilogue, i, p.n, row);
    }
  });
  add_group_sums(p, c);
}

// Tiles of C handed to the threads: as large as the caches like, then, with several threads, smaller
// until each has kTilesPerThread of them (fewer rows first: a panel of A is packed once per tile
// column, so narrower tiles cost more packing).
struct Tiling {
  int64_t mc, nc;
  int64_t row_tiles, col_tiles;
};

Tiling plan_tiles(int64_t m, int64_t n, int64_t mr, int64_t nr, int threads) {
  Tiling t;
  const int64_t mc_max = std::max(mr, kMC / mr * mr);
  t.mc = round_up(ceil_div(m, ceil_div(m, mc_max)), mr);  // even tiles: M = 256 as 98 + 98 + 60, not 126 + 126 + 4
  t.nc = round_up(ceil_div(n, ceil_div(n, kNC)), nr);
  const int64_t wanted = threads > 1 ? kTilesPerThread * threads : 1;
  const auto count = [&] {
    t.row_tiles = ceil_div(m, t.mc);
    t.col_tiles = ceil_div(n, t.nc);
    return t.row_tiles * t.col_tiles;
  };
  if (count() < wanted) t.mc = round_up(ceil_div(m, ceil_div(wanted, t.col_tiles)), mr);
  if (count() < wanted) t.nc = round_up(ceil_div(n, ceil_div(wanted, t.row_tiles)), nr);
  count();
  return t;
}

// The rows [first, first + count) of a plan: one kernel call's share of it.
PrefetchPlan share_of(const PrefetchPlan& plan, int64_t first, int64_t count) {
  PrefetchPlan share = plan;
  share.rows = std::clamp<int64_t>(plan.rows - first, 0, count);
  if (share.rows > 0) share.base += first * plan.stride;
  return share;
}

// The blocked product for one kernel's register tile (MR x NR) and Panels kind on `threads` threads
// (1: the caller alone); see the loop nest at the top.
template <int MR, int NR, class Panels>
class Blocked {
  using Element = typename Panels::Element;
  static constexpr int64_t kPair = Panels::kPair;

 public:
  Blocked(const GemmParams& p, const Panels& panels, const float* a, const float* b, float* c, int threads)
      : p_(p), panels_(panels), a_(a), b_(b), c_(c), threads_(threads) {
    n_panels_ = ceil_div(p.n, NR);
    const int64_t row_bytes = NR * static_cast<int64_t>(sizeof(Element));  // of one k in a B panel
    // A single thread working on few rows prefetches the next KC block of B into L2 beside the packed
    // one (both must fit); with more rows, packing B costs little beside multiplying it.
    prefetch_b_ = threads == 1 && p.m < kPrefetchBRows;
    const int64_t max_kc = prefetch_b_ ? std::clamp<int64_t>(kL2Bytes / (2 * n_panels_ * row_bytes), kLine, kKC) : kKC;
    // Equal blocks (K = 576 runs as 3 x 192, not 256 + 256 + 64) of whole k groups: only the last
    // block of K may end in a zero-padded pair.
    kc_ = round_up(ceil_div(p.k, ceil_div(p.k, max_kc)), kPair);
    // One thread packs one KC block at a time, which stays in L2 while every row panel passes it
    // (the BLIS order); several pack as much as kMaxPackedBBytes allows, so that each wake-up of the
    // pool covers much work.
    super_k_ = kc_ * (threads > 1 ? std::max<int64_t>(1, kMaxPackedBBytes / (kc_ * n_panels_ * row_bytes)) : 1);
    tiling_ = plan_tiles(p.m, p.n, MR, NR, threads);
  }

  void run() {
    const GemmEpilogue& e = p_.epilogue;
    const int64_t group_sums = e.sums ? ceil_div(p_.m, e.group_rows) * p_.n : 0;
    run_sums_.assign(static_cast<size_t>(runs() * group_sums), 0.f);
    // Kept panels hold every super-block of B, one after another; otherwise each is packed in turn.
    const Tensor kept = p_.packed_b ? kept_panels() : Tensor();
    const Element* next_kept = static_cast<const Element*>(kept.raw_data());
    Element* scratch = kept.defined() ? nullptr : packed_b_scratch().get<Element>(block_elements(0));
    for (int64_t k0 = 0; k0 < p_.k; k0 += super_k_) {
      const int64_t k1 = std::min(p_.k, k0 + super_k_);
      if (kept.defined()) {
        multiply(k0, k1, next_kept);
        next_kept += block_elements(k0);
      } else {
        pack_b(k0, k1, scratch);
        multiply(k0, k1, scratch);
      }
    }
    for (int64_t r = 0; r < runs() * group_sums; ++r) e.sums[r % group_sums] += run_sums_[r];
  }

 private:
  // All of B's panels from p_.packed_b, packed there on first use of this layout. The key holds what
  // the layout depends on, and B's address: a K slice of the split product is a B of its own.
  Tensor kept_panels() const {
    const std::string key = concat(Panels::kName, " MR ", MR, " NR ", NR, " kc ", kc_, " super_k ", super_k_, " k ", p_.k,
                                   " n ", p_.n, " ldb ", p_.ldb, p_.trans_b ? " B (N,K) at " : " B (K,N) at ",
                                   reinterpret_cast<uintptr_t>(b_));
    int64_t elements = 0;
    for (int64_t k0 = 0; k0 < p_.k; k0 += super_k_) elements += block_elements(k0);
    return p_.packed_b->panels(key, static_cast<size_t>(elements) * sizeof(Element), [&](void* bytes) {
      Element* dst = static_cast<Element*>(bytes);
      for (int64_t k0 = 0; k0 < p_.k; k0 += super_k_) {
        pack_b(k0, std::min(p_.k, k0 + super_k_), dst);
        dst += block_elements(k0);
      }
    });
  }

  // Elements of one packed B panel `depth` deep: whole k groups of NR columns.
  static int64_t panel_size(int64_t depth) { return round_up(depth, kPair) * NR; }
  // Elements of all panels of the super-block of B starting at k0 (the first is the largest).
  int64_t block_elements(int64_t k0) const { return panel_size(std::min(p_.k, k0 + super_k_) - k0) * n_panels_; }

  // One k group of a matrix whose k runs down its rows, `ld` apart: n elements of the row at src, or,
  // for pairs, of it and the next as pairs (the next is zero when only `left` = 1 row remains).
  void pack_group(const float* src, int64_t ld, int64_t left, int64_t n, Element* dst) const {
    if constexpr (kPair == 1)
      panels_.convert(src, n, dst);
    else
      panels_.interleave(src, left > 1 ? src + ld : nullptr, n, dst);
  }

  // B rows [k0, k1) into panels of NR columns: panel j holds the (k1 - k0) rows in k groups of NR
  // columns, zero past N (and past k1 in an odd last pair).
  void pack_b(int64_t k0, int64_t k1, Element* packed) const {
    const int64_t depth = k1 - k0;
    const int64_t grain = threads_ > 1 ? ceil_div(kCopyGrain, depth * NR) : n_panels_;
    parallel_for(n_panels_, grain, [&](int64_t begin, int64_t end) {
      const int64_t j_end = std::min(p_.n, end * NR);
      if (!p_.trans_b) {  // B (K,N): along each row of B, a long stream from DRAM
        for (int64_t q = 0; q < depth; q += kPair) {
          const float* src = b_ + (k0 + q) * p_.ldb;
          for (int64_t panel = begin; panel < end; ++panel) {
            Element* dst = packed + panel * panel_size(depth) + q * NR;
            const int64_t cols = std::min<int64_t>(NR, j_end - panel * NR);
            pack_group(src + panel * NR, p_.ldb, depth - q, cols, dst);
            std::fill(dst + cols * kPair, dst + NR * kPair, Element{0});
          }
        }
        return;
      }
      for (int64_t panel = begin; panel < end; ++panel)  // B (N,K): a transpose, the kernel file's
        panels_.pack_b_transposed(b_ + panel * NR * p_.ldb + k0, p_.ldb, depth,
                                  static_cast<int>(std::min<int64_t>(NR, j_end - panel * NR)), NR,
                                  packed + panel * panel_size(depth));
    });
  }

  // What pack_b(k0, k1) reads, a line at a time along the rows of B.
  PrefetchPlan b_source(int64_t k0, int64_t k1) const {
    PrefetchPlan plan;
    plan.base = p_.trans_b ? b_ + k0 : b_ + k0 * p_.ldb;
    plan.stride = p_.ldb;
    plan.step = kLine;
    plan.rows = p_.trans_b ? p_.n : k1 - k0;
    plan.per_row = ceil_div(p_.trans_b ? k1 - k0 : p_.n, kLine);
    return plan;
  }

  // Row i, depth [k0, k0 + depth) of the windows' A into dst. The taps of one kernel row are
  // neighbouring pixels of x, so the part of a kernel row inside the image is one contiguous run,
  // with zeros on either side where the window leaves it (and all zeros above or below the image).
  void gather_row(int64_t i, int64_t k0, int64_t depth, Element* dst) const {
    const GemmWindows& g = p_.windows;
    const int64_t image = i / (g.p * g.q), h0 = i / g.q % g.p * g.stride - g.pad, w0 = i % g.q * g.stride - g.pad;
    const int64_t row_len = g.kernel * g.c;
    const int64_t inside_lo = std::clamp<int64_t>(-w0, 0, g.kernel) * g.c;  // within a kernel row
    const int64_t inside_hi = std::max(inside_lo, std::clamp<int64_t>(g.w - w0, 0, g.kernel) * g.c);
    for (int64_t k = g.k_offset + k0, end = k + depth; k < end;) {
      const int64_t kh = k / row_len, row_start = kh * row_len, row_end = std::min(end, row_start + row_len);
      const int64_t h = h0 + kh;
      const bool rows_inside = h >= 0 && h < g.h;
      const int64_t lo = std::clamp(row_start + (rows_inside ? inside_lo : row_len), k, row_end);
      const int64_t hi = std::clamp(row_start + (rows_inside ? inside_hi : row_len), lo, row_end);
      std::fill(dst, dst + (lo - k), Element{0});
      if (hi > lo) panels_.convert(g.x + ((image * g.h + h) * g.w + w0) * g.c + (lo - row_start), hi - lo, dst + (lo - k));
      std::fill(dst + (hi - k), dst + (row_end - k), Element{0});
      dst += row_end - k, k = row_end;
    }
  }

  // Rows [i0, i0 + rows) and depth [k0, k0 + depth) of op(A) into the layout the kernel reads.
  void pack_a(int64_t i0, int rows, int64_t k0, int64_t depth, Element* dst) const {
    if (p_.windows.x) {  // A gathered from the image: rows as in A (M,K)
      for (int i = 0; i < rows; ++i) {
        Element* row = dst + i * Panels::kRowStride;
        gather_row(i0 + i, k0, depth, row);
        if (depth % kPair) row[depth] = Element{0};
      }
      return;
    }
    if (!p_.trans_a) {  // A (M,K): one contiguous run per row, its pairs of k already side by side
      for (int i = 0; i < rows; ++i) {
        Element* row = dst + i * Panels::kRowStride;
        panels_.convert(a_ + (i0 + i) * p_.lda + k0, depth, row);
        if (depth % kPair) row[depth] = Element{0};
      }
      return;
    }
    const float* src = a_ + k0 * p_.lda + i0;  // A (K,M): one short run per k group, of constant size when full
    if (rows == MR) {
      for (int64_t q = 0; q < depth; q += kPair) pack_group(src + q * p_.lda, p_.lda, depth - q, MR, dst + q * MR);
    } else {
      for (int64_t q = 0; q < depth; q += kPair) pack_group(src + q * p_.lda, p_.lda, depth - q, rows, dst + q * MR);
    }
  }

  // What pack_a(i0, rows, k0, depth) reads: a line at a time along rows of A (M,K), or the first and
  // last float of each row segment of A (K,M).
  PrefetchPlan a_source(int64_t i0, int64_t rows, int64_t k0, int64_t depth) const {
    PrefetchPlan plan;
    if (p_.windows.x) return plan;  // windows overlap: their pixels are mostly in cache already
    plan.stride = p_.lda;
    if (!p_.trans_a) {
      plan.base = a_ + i0 * p_.lda + k0;
      plan.step = kLine;
      plan.rows = rows;
      plan.per_row = ceil_div(depth, kLine);
    } else {
      plan.base = a_ + k0 * p_.lda + i0;
      plan.step = rows - 1;
      plan.rows = depth;
      plan.per_row = 2;
    }
    return plan;
  }

  // Tiles of C over depth [k0, k1), prefetching the next super-block of B over all the kernel calls
  // when prefetch_b_ (several threads pack it together in one go, which streams well).
  void multiply(int64_t k0, int64_t k1, const Element* packed_b) {
    const Tiling& t = tiling_;
    const int64_t tiles = t.row_tiles * t.col_tiles;
    const PrefetchPlan next_b =
        prefetch_b_ && !p_.packed_b && k1 < p_.k ? b_source(k1, std::min(p_.k, k1 + super_k_)) : PrefetchPlan{};
    const int64_t calls = ceil_div(p_.m, MR) * n_panels_ * ceil_div(k1 - k0, kc_);
    const int64_t runs = this->runs();
    const size_t group_sums = run_sums_.size() / static_cast<size_t>(runs);
    parallel_for(runs, threads_ > 1 ? 1 : runs, [&](int64_t begin, int64_t end) {
      Element* packed_a = packed_a_scratch().get<Element>(MR * Panels::kRowStride);
      float* sums = group_sums ? run_sums_.data() + begin * group_sums : nullptr;  // this chunk's: one thread's
      Share b_share{next_b, ceil_div(next_b.rows, calls), 0};  // non-empty only with one thread, one chunk
      const int64_t last = end * tiles / runs;
      for (int64_t tile = begin * tiles / runs; tile < last; ++tile) {
        const int64_t i0 = tile % t.row_tiles * t.mc, j0 = tile / t.row_tiles * t.nc;
        const int64_t next_i0 = tile + 1 < last ? (tile + 1) % t.row_tiles * t.mc : p_.m;
        multiply_tile({i0, std::min(p_.m, i0 + t.mc), j0, std::min(p_.n, j0 + t.nc)}, k0, k1, packed_b, packed_a,
                      next_i0, std::min(p_.m, next_i0 + t.mc), b_share, sums);
      }
    });
  }

  struct Rect {
    int64_t i0, i1, j0, j1;
  };
  // A plan handed out in equal shares, `per_call` rows to each kernel call in turn.
  struct Share {
    PrefetchPlan plan;
    int64_t per_call, handed;
  };

  // Equal runs of tiles, one parallel_for chunk each; tiles run down a column of C within a run,
  // so consecutive tiles share their packed B.
  int64_t runs() const { return std::min(tiling_.row_tiles * tiling_.col_tiles, kTilesPerThread * threads_); }

  // The epilogue's group sums of one finished kernel tile (rows x cols of C at row i, column j), into
  // a run's private sums: the tile's rows summed in registers, flushed once per group they touch.
  void add_tile_sums(int64_t i, int64_t j, int rows, int cols, const float* c, float* sums) const {
    if (cols == NR)
      add_tile_sums_of<NR>(i, j, rows, NR, c, sums);  // a constant width: the compiler unrolls it
    else
      add_tile_sums_of<0>(i, j, rows, cols, c, sums);
  }

  template <int WIDTH>
  void add_tile_sums_of(int64_t i, int64_t j, int rows, int cols, const float* c, float* sums) const {
    const int width = WIDTH ? WIDTH : cols;
    const int64_t group_rows = p_.epilogue.group_rows;
    int64_t group = i / group_rows, group_end = (group + 1) * group_rows;
    float acc[NR] = {};
    const auto flush = [&] {
      float* s = sums + group * p_.n + j;
      for (int col = 0; col < width; ++col) s[col] += acc[col], acc[col] = 0.f;
    };
    for (int r = 0; r < rows; ++r) {
      if (i + r == group_end) flush(), ++group, group_end += group_rows;
      for (int col = 0; col < width; ++col) acc[col] += c[r * p_.ldc + col];
    }
    flush();
  }

  // C[r] over depth [k0, k1), with rows [next_i0, next_i1) due next: their first panel is prefetched
  // during the last panel here. sums: the run's group sums (null when the epilogue has none).
  void multiply_tile(const Rect& r, int64_t k0, int64_t k1, const Element* packed_b, Element* packed_a,
                     int64_t next_i0, int64_t next_i1, Share& b_share, float* sums) const {
    cpu::gemm::Tile<Element> tile;
    tile.layout = p_.trans_a ? PanelLayout::KMajor : PanelLayout::RowMajor;
    tile.a = packed_a;
    tile.ldc = p_.ldc;
    tile.alpha = p_.alpha;
    tile.ldr = p_.epilogue.ldr;
    tile.relu = false;
    tile.bias = tile.residual = nullptr;
    const int64_t calls = ceil_div(r.j1 - r.j0, NR);  // kernel calls per A panel, which share its prefetching
    for (int64_t kb = k0; kb < k1; kb += kc_) {
      tile.kc = std::min(kc_, k1 - kb);
      tile.beta = kb == 0 ? p_.beta : 1.f;  // later K blocks add to what the first one wrote
      const bool last_k = kb + tile.kc == p_.k;  // the epilogue finishes C, once
      tile.relu = last_k && p_.epilogue.relu;
      for (int64_t i = r.i0; i < r.i1; i += MR) {
        tile.rows = static_cast<int>(std::min<int64_t>(MR, r.i1 - i));
        pack_a(i, tile.rows, kb, tile.kc, packed_a);
        // The next panel: further down this tile, else back up at the next K block, else the next tile.
        int64_t ni = i + MR, ni1 = r.i1, nkb = kb;
        if (ni >= r.i1) ni = r.i0, nkb = kb + kc_;
        if (nkb >= k1) ni = next_i0, ni1 = next_i1, nkb = k0;
        const PrefetchPlan next_a =
            ni < ni1 ? a_source(ni, std::min<int64_t>(MR, ni1 - ni), nkb, std::min(kc_, k1 - nkb)) : PrefetchPlan{};
        const int64_t a_per_call = ceil_div(next_a.rows, calls);
        for (int64_t j = r.j0, call = 0; j < r.j1; j += NR, ++call) {
          tile.cols = static_cast<int>(std::min<int64_t>(NR, r.j1 - j));
          tile.b = packed_b + (j / NR) * panel_size(k1 - k0) + (kb - k0) * NR;
          tile.c = c_ + i * p_.ldc + j;
          tile.bias = last_k && p_.epilogue.bias ? p_.epilogue.bias + j : nullptr;
          tile.residual = last_k && p_.epilogue.residual ? p_.epilogue.residual + i * p_.epilogue.ldr + j : nullptr;
          tile.next_a = share_of(next_a, call * a_per_call, a_per_call);
          tile.next_b = share_of(b_share.plan, b_share.handed, b_share.per_call);
          b_share.handed += b_share.per_call;
          panels_.multiply(tile);
          if (sums && last_k) add_tile_sums(i, j, tile.rows, tile.cols, tile.c, sums);
        }
      }
    }
  }

  static constexpr int64_t kLine = 64 / sizeof(float);  // floats per cache line

  const GemmParams& p_;
  const Panels& panels_;
  const float* a_;
  const float* b_;
  float* c_;
  const int threads_;
  bool prefetch_b_;
  int64_t kc_, n_panels_, super_k_;
  Tiling tiling_;
  std::vector<float> run_sums_;  // the epilogue's group sums, per run of tiles
};

// The product on all threads. When C is too small to give every thread full-size tiles but K is deep
// (weight gradients: K = pixels), each thread instead takes a slice of K whole, serially and in the
// BLIS order, into its own partial C; the partials are then summed into C, and each row finished.
template <int MR, int NR, class Panels>
void blocked_sgemm(const GemmParams& p, const Panels& panels, const float* a, const float* b, float* c) {
  const int threads = p.m * p.n * p.k < kMinParallelMacs ? 1 : cpu_threads();
  const Tiling full = plan_tiles(p.m, p.n, MR, NR, 1);
  const int64_t parts = full.row_tiles * full.col_tiles < kTilesPerThread * threads
                            ? std::min<int64_t>(threads, p.k / (kMinSplitBlocks * kKC))
                            : 1;
  if (parts <= 1) {
    Blocked<MR, NR, Panels>(p, panels, a, b, c, threads).run();
    return;
  }
  // Parts 1.. write here; part 0 writes C with the caller's beta.
  float* partials = partial_scratch().get<float>((parts - 1) * p.m * p.n);
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      const int64_t k0 = part * p.k / parts, k1 = (part + 1) * p.k / parts;
      GemmParams slice = p;
      slice.k = k1 - k0;
      slice.epilogue = GemmEpilogue{};  // C is finished after the sum
      float* out = c;
      if (part > 0) {
        slice.beta = 0.f;
        slice.ldc = p.n;
        out = partials + (part - 1) * p.m * p.n;
      }
      slice.windows.k_offset += k0;
      const float* a_slice = p.windows.x ? nullptr : p.trans_a ? a + k0 * p.lda : a + k0;
      const float* b_slice = p.trans_b ? b + k0 : b + k0 * p.ldb;
      Blocked<MR, NR, Panels>(slice, panels, a_slice, b_slice, out, 1).run();
    }
  });
  parallel_for(p.m, ceil_div(kCopyGrain, p.n * (parts - 1)), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* dst = c + i * p.ldc;
      for (int64_t part = 1; part < parts; ++part) {
        const float* src = partials + ((part - 1) * p.m + i) * p.n;
        for (int64_t j = 0; j < p.n; ++j) dst[j] += src[j];
      }
      finish_row(p.epilogue, i, p.n, dst);
    }
  });
  add_group_sums(p, c);
}

// The product on one SIMD level's f32 kernel: of plain copies, or, for BF16, of rounded values.
template <int MR, int NR>
void on_f32_kernel(const GemmParams& p, void (*multiply)(const MicroTile&), PackBTransposedF32 pack_b_transposed,
                   const float* a, const float* b, float* c) {
  if (p.precision == ComputePrecision::BF16)
    blocked_sgemm<MR, NR>(p, RoundedF32Panels{multiply}, a, b, c);
  else
    blocked_sgemm<MR, NR>(p, F32Panels{multiply, pack_b_transposed}, a, b, c);
}

#if PIX_GEMM_BF16_KERNEL
bool cpu_has_avx512_bf16() {
  static const bool has = [] {
    const std::vector<std::string>& extras = cpu_features().extras;
    return std::find(extras.begin(), extras.end(), "avx512_bf16") != extras.end();
  }();
  return has;
}
#endif

}  // namespace

namespace cpu {

void sgemm_simd(const GemmParams& params, SimdLevel level, const float* a, const float* b, float* c) {
  check_args(params, a, b, c);
  const SimdLevel host = cpu_features().simd;
  PIX_CHECK(static_cast<int>(level) <= static_cast<int>(host), "sgemm: the ", simd_level_name(level),
            " kernel needs a CPU with ", simd_level_name(level), "; this one has ", simd_level_name(host));
  if (params.m == 0 || params.n == 0) return;
  if (params.k == 0 || params.alpha == 0.f) {
    scale_c(params, c);
    return;
  }
  switch (level) {
#if PIX_GEMM_X86_KERNELS
    case SimdLevel::AVX512:
#if PIX_GEMM_BF16_KERNEL
      if (params.precision == ComputePrecision::BF16 && cpu_has_avx512_bf16()) {
        blocked_sgemm<gemm::kAvx512Bf16MR, gemm::kAvx512Bf16NR>(params, Bf16Panels{}, a, b, c);
        return;
      }
#endif
      on_f32_kernel<gemm::kAvx512MR, gemm::kAvx512NR>(params, gemm::micro_kernel_avx512, gemm::pack_b_transposed_avx2,
                                                      a, b, c);
      return;
    case SimdLevel::AVX2:
      on_f32_kernel<gemm::kAvx2MR, gemm::kAvx2NR>(params, gemm::micro_kernel_avx2, gemm::pack_b_transposed_avx2, a, b,
                                                  c);
      return;
#endif
    default:
      on_f32_kernel<gemm::kPortableMR, gemm::kPortableNR>(params, gemm::micro_kernel_portable,
                                                          gemm::pack_b_transposed_portable, a, b, c);
      return;
  }
}

}  // namespace cpu

void GemmPackedB::track(const Tensor& b, uint64_t version) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (b_.defined() && b.raw_data() == b_.raw_data() && version == version_) return;
  entries_.clear();
  b_ = b;
  version_ = version;
}

void GemmPackedB::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  b_ = Tensor();
}

Tensor GemmPackedB::panels(const std::string& key, size_t bytes, const std::function<void(void*)>& pack) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [stored, panels] : entries_)
    if (stored == key) return panels;
  Tensor panels = Tensor::empty({static_cast<int64_t>((bytes + sizeof(float) - 1) / sizeof(float))}, DType::F32);
  pack(panels.raw_data());
  if (entries_.size() == kMaxEntries) entries_.erase(entries_.begin());
  entries_.emplace_back(key, panels);
  return panels;
}

void sgemm(const GemmParams& params, const float* a, const float* b, float* c) {
  cpu::sgemm_simd(params, cpu_features().simd, a, b, c);
}

}  // namespace pix
