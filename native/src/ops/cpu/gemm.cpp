// The CPU SGEMM of ops/gemm.h: argument checks, packing, cache blocking and threading around one
// micro-kernel per SIMD level (gemm_kernel_*.cpp), picked at run time from cpu_features().
// Not here: the register-level code (the kernels), batched GEMM, dtypes other than f32.
//
// The loop nest follows GotoBLAS/BLIS, with C row-major and the kernels' vector lanes along N:
//   for each K super-block:          B packed once into NR-wide panels, shared by all threads
//     parallel over tiles of C:      up to MC x NC each, cut smaller until every thread has several
//       for each KC block:           the tile's packed B (KC x NC, 512 KB) stays in L2
//         for each MR-row panel:     A packed into this thread's 14 KB buffer, which stays in L1
//           for each NR panel:       one micro-kernel call
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/cpu/gemm_kernels.h"
#include "ops/gemm.h"

namespace pix {
namespace {

using cpu::gemm::kKC;
using cpu::gemm::kPackedRowStride;
using cpu::gemm::MicroTile;
using cpu::gemm::PanelLayout;
using cpu::gemm::PrefetchPlan;
using MicroKernel = void (*)(const MicroTile&);

// Columns per tile: a KC x NC block of packed B is 512 KB, half of a 1 MB L2.
constexpr int64_t kNC = 512;
// Rows per tile (rounded down to MR): the MC x NC block of C (256 KB) stays in L2 beside B between KC blocks.
constexpr int64_t kMC = 128;
// Packed B per K super-block, in floats (16 MB): bounds the scratch for weight gradients, where K is
// the number of pixels.
constexpr int64_t kMaxPackedB = int64_t{4} << 20;
// Tiles wanted per thread: several, so that edge tiles and a core shared with another process balance.
constexpr int64_t kTilesPerThread = 4;
// K blocks per thread at least before K is split across threads: fewer would not pay for the partial sums.
constexpr int64_t kMinSplitBlocks = 4;
// Floats copied per parallel_for chunk at least when packing or scaling: less is not worth a wake-up.
constexpr int64_t kCopyGrain = int64_t{1} << 16;

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }
int64_t round_up(int64_t x, int64_t y) { return ceil_div(x, y) * y; }

// Grow-only, 64-byte-aligned scratch. Each thread has its own (thread_local), since sgemm may run on
// several threads at once and the pool's workers pack A panels concurrently.
class Scratch {
 public:
  float* get(int64_t floats) {
    if (floats > capacity_) {
      const size_t bytes = static_cast<size_t>(round_up(floats * static_cast<int64_t>(sizeof(float)), 64));
      data_.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
      if (!data_) {
        capacity_ = 0;
        throw std::bad_alloc();
      }
      capacity_ = floats;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

const char* shape_of_a(const GemmParams& p) { return p.trans_a ? "(K,M)" : "(M,K)"; }
const char* shape_of_b(const GemmParams& p) { return p.trans_b ? "(N,K)" : "(K,N)"; }

void check_args(const GemmParams& p, const float* a, const float* b, const float* c) {
  PIX_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0, "sgemm: sizes must not be negative, got m=", p.m, " n=", p.n,
            " k=", p.k);
  const int64_t a_row = p.trans_a ? p.m : p.k;
  const int64_t b_row = p.trans_b ? p.k : p.n;
  PIX_CHECK(p.lda >= a_row, "sgemm: lda=", p.lda, " is shorter than a row of A, stored ", shape_of_a(p), " with ",
            a_row, " columns");
  PIX_CHECK(p.ldb >= b_row, "sgemm: ldb=", p.ldb, " is shorter than a row of B, stored ", shape_of_b(p), " with ",
            b_row, " columns");
  PIX_CHECK(p.ldc >= p.n, "sgemm: ldc=", p.ldc, " is shorter than a row of C (M,N) with ", p.n, " columns");
  PIX_CHECK(a != nullptr || p.m == 0 || p.k == 0, "sgemm: A is null but ", shape_of_a(p), " has m=", p.m, " k=", p.k);
  PIX_CHECK(b != nullptr || p.k == 0 || p.n == 0, "sgemm: B is null but ", shape_of_b(p), " has k=", p.k, " n=", p.n);
  PIX_CHECK(c != nullptr || p.m == 0 || p.n == 0, "sgemm: C is null but (M,N) has m=", p.m, " n=", p.n);
}

// C = beta * C, for k == 0 or alpha == 0 (A and B are not read, as in BLAS). beta == 0 writes zeros.
void scale_c(const GemmParams& p, float* c) {
  if (p.beta == 1.f) return;
  parallel_for(p.m, ceil_div(kCopyGrain, p.n), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* row = c + i * p.ldc;
      if (p.beta == 0.f)
        std::fill(row, row + p.n, 0.f);
      else
        for (int64_t j = 0; j < p.n; ++j) row[j] *= p.beta;
    }
  });
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
  t.mc = std::min(round_up(m, mr), std::max(mr, kMC / mr * mr));
  t.nc = std::min(round_up(n, nr), kNC);
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

// The blocked product for one kernel's register tile (MR x NR) on `threads` threads (1: the caller
// alone); see the loop nest at the top.
template <int MR, int NR>
class Blocked {
 public:
  Blocked(const GemmParams& p, MicroKernel kernel, const float* a, const float* b, float* c, int threads)
      : p_(p), kernel_(kernel), a_(a), b_(b), c_(c), threads_(threads) {
    const int64_t k_blocks = ceil_div(p.k, kKC);
    kc_ = ceil_div(p.k, k_blocks);  // equal blocks: K = 576 runs as 3 x 192, not 256 + 256 + 64
    n_panels_ = ceil_div(p.n, NR);
    // One thread packs one KC block at a time, which stays in L2 while every row panel passes it
    // (the BLIS order); several pack as much as kMaxPackedB allows, so that each wake-up of the pool
    // covers much work.
    blocks_per_super_ = threads > 1 ? std::max<int64_t>(1, kMaxPackedB / (kc_ * n_panels_ * NR)) : 1;
    tiling_ = plan_tiles(p.m, p.n, MR, NR, threads);
  }

  void run() {
    thread_local Scratch packed_b_scratch;
    const int64_t super_k = blocks_per_super_ * kc_;
    float* packed_b = packed_b_scratch.get(std::min(super_k, p_.k) * n_panels_ * NR);
    for (int64_t k0 = 0; k0 < p_.k; k0 += super_k) {
      const int64_t k1 = std::min(p_.k, k0 + super_k);
      pack_b(k0, k1, packed_b);
      multiply(k0, k1, packed_b);
    }
  }

 private:
  // B rows [k0, k1) into panels of NR columns: panel j holds (k1 - k0) rows of NR floats, zero past N.
  void pack_b(int64_t k0, int64_t k1, float* packed) const {
    const int64_t depth = k1 - k0;
    const int64_t grain = threads_ > 1 ? ceil_div(kCopyGrain, depth * NR) : n_panels_;
    parallel_for(n_panels_, grain, [&](int64_t begin, int64_t end) {
      const int64_t j_end = std::min(p_.n, end * NR);
      if (!p_.trans_b) {  // B (K,N): along each row of B, which may be a long stream from DRAM
        for (int64_t q = 0; q < depth; ++q) {
          const float* src = b_ + (k0 + q) * p_.ldb;
          for (int64_t panel = begin; panel < end; ++panel) {
            float* dst = packed + (panel * depth + q) * NR;
            const int64_t cols = std::min<int64_t>(NR, j_end - panel * NR);
            std::copy(src + panel * NR, src + panel * NR + cols, dst);
            std::fill(dst + cols, dst + NR, 0.f);
          }
        }
        return;
      }
      for (int64_t panel = begin; panel < end; ++panel) {  // B (N,K): each column of a panel is a row of B
        float* dst = packed + panel * depth * NR;
        const int64_t cols = std::min<int64_t>(NR, j_end - panel * NR);
        for (int64_t j = 0; j < cols; ++j) {
          const float* src = b_ + (panel * NR + j) * p_.ldb + k0;
          for (int64_t q = 0; q < depth; ++q) dst[q * NR + j] = src[q];
        }
        for (int64_t q = 0; q < depth && cols < NR; ++q) std::fill(dst + q * NR + cols, dst + (q + 1) * NR, 0.f);
      }
    });
  }

  // Rows [i0, i0 + rows) and depth [k0, k0 + depth) of op(A) into the layout the kernel reads.
  void pack_a(int64_t i0, int rows, int64_t k0, int64_t depth, float* dst) const {
    if (!p_.trans_a) {  // A (M,K): one contiguous copy per row
      for (int i = 0; i < rows; ++i)
        std::memcpy(dst + i * kPackedRowStride, a_ + (i0 + i) * p_.lda + k0, depth * sizeof(float));
      return;
    }
    const float* src = a_ + k0 * p_.lda + i0;  // A (K,M): one short copy per k, of constant size when full
    if (rows == MR) {
      for (int64_t q = 0; q < depth; ++q) std::memcpy(dst + q * MR, src + q * p_.lda, MR * sizeof(float));
    } else {
      for (int64_t q = 0; q < depth; ++q) std::memcpy(dst + q * MR, src + q * p_.lda, rows * sizeof(float));
    }
  }

  // What pack_a(i0, rows, k0, depth) will read: a line at a time along rows of A (M,K), or the first
  // and last float of each row segment of A (K,M).
  PrefetchPlan source_of(int64_t i0, int64_t rows, int64_t k0, int64_t depth) const {
    constexpr int64_t kLine = 64 / sizeof(float);
    PrefetchPlan plan;
    plan.stride = p_.lda;
    if (!p_.trans_a) {
      plan.base = a_ + i0 * p_.lda + k0;
      plan.step = kLine;
      plan.rows = static_cast<int>(rows);
      plan.per_row = static_cast<int>(ceil_div(depth, kLine));
    } else {
      plan.base = a_ + k0 * p_.lda + i0;
      plan.step = rows - 1;
      plan.rows = static_cast<int>(depth);
      plan.per_row = 2;
    }
    return plan;
  }

  void multiply(int64_t k0, int64_t k1, const float* packed_b) const {
    const Tiling& t = tiling_;
    const int64_t tiles = t.row_tiles * t.col_tiles;
    // Equal runs of tiles, one parallel_for chunk each; tiles run down a column of C within a run,
    // so consecutive tiles share their packed B.
    const int64_t runs = std::min(tiles, kTilesPerThread * threads_);
    parallel_for(runs, threads_ > 1 ? 1 : runs, [&](int64_t begin, int64_t end) {
      thread_local Scratch packed_a_scratch;
      float* packed_a = packed_a_scratch.get(MR * kPackedRowStride);
      const int64_t last = end * tiles / runs;
      for (int64_t tile = begin * tiles / runs; tile < last; ++tile) {
        const int64_t i0 = tile % t.row_tiles * t.mc, j0 = tile / t.row_tiles * t.nc;
        const int64_t next_i0 = tile + 1 < last ? (tile + 1) % t.row_tiles * t.mc : p_.m;
        multiply_tile(i0, std::min(p_.m, i0 + t.mc), j0, std::min(p_.n, j0 + t.nc), k0, k1, packed_b, packed_a,
                      next_i0, std::min(p_.m, next_i0 + t.mc));
      }
    });
  }

  // C[i0:i1, j0:j1] over depth [k0, k1), with rows [next_i0, next_i1) due next (prefetched from the
  // last panel on).
  void multiply_tile(int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t k0, int64_t k1, const float* packed_b,
                     float* packed_a, int64_t next_i0, int64_t next_i1) const {
    MicroTile tile;
    tile.layout = p_.trans_a ? PanelLayout::KMajor : PanelLayout::RowMajor;
    tile.a = packed_a;
    tile.ldc = p_.ldc;
    tile.alpha = p_.alpha;
    const int64_t calls = ceil_div(j1 - j0, NR);  // kernel calls per A panel, which share its prefetching
    for (int64_t kb = k0; kb < k1; kb += kc_) {
      tile.kc = std::min(kc_, k1 - kb);
      tile.beta = kb == 0 ? p_.beta : 1.f;  // later K blocks add to what the first one wrote
      for (int64_t i = i0; i < i1; i += MR) {
        tile.rows = static_cast<int>(std::min<int64_t>(MR, i1 - i));
        pack_a(i, tile.rows, kb, tile.kc, packed_a);
        // The next panel: further down this tile, else back up at the next K block, else the next tile.
        int64_t ni = i + MR, ni1 = i1, nkb = kb;
        if (ni >= i1) ni = i0, nkb = kb + kc_;
        if (nkb >= k1) ni = next_i0, ni1 = next_i1, nkb = k0;
        const PrefetchPlan next = ni < ni1 ? source_of(ni, std::min<int64_t>(MR, ni1 - ni), nkb,
                                                       std::min(kc_, k1 - nkb))
                                           : PrefetchPlan{};
        const int rows_per_call = static_cast<int>(ceil_div(next.rows, calls));
        for (int64_t j = j0, call = 0; j < j1; j += NR, ++call) {
          tile.cols = static_cast<int>(std::min<int64_t>(NR, j1 - j));
          tile.b = packed_b + (j / NR) * (k1 - k0) * NR + (kb - k0) * NR;
          tile.c = c_ + i * p_.ldc + j;
          tile.prefetch = next;
          tile.prefetch.rows = std::clamp(next.rows - static_cast<int>(call) * rows_per_call, 0, rows_per_call);
          if (tile.prefetch.rows > 0) tile.prefetch.base += call * rows_per_call * next.stride;
          kernel_(tile);
        }
      }
    }
  }

  const GemmParams& p_;
  const MicroKernel kernel_;
  const float* a_;
  const float* b_;
  float* c_;
  const int threads_;
  int64_t kc_, n_panels_, blocks_per_super_;
  Tiling tiling_;
};

// The product on all threads. When C is too small to give every thread full-size tiles but K is deep
// (weight gradients: K = pixels), each thread instead takes a slice of K whole, serially and in the
// BLIS order, into its own partial C; the partials are then summed into C.
template <int MR, int NR>
void blocked_sgemm(const GemmParams& p, MicroKernel kernel, const float* a, const float* b, float* c) {
  const int threads = cpu_threads();
  const Tiling full = plan_tiles(p.m, p.n, MR, NR, 1);
  const int64_t parts = full.row_tiles * full.col_tiles < kTilesPerThread * threads
                            ? std::min<int64_t>(threads, p.k / (kMinSplitBlocks * kKC))
                            : 1;
  if (parts <= 1) {
    Blocked<MR, NR>(p, kernel, a, b, c, threads).run();
    return;
  }
  thread_local Scratch partial_scratch;  // parts 1.. write here; part 0 writes C with the caller's beta
  float* partials = partial_scratch.get((parts - 1) * p.m * p.n);
  parallel_for(parts, 1, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      const int64_t k0 = part * p.k / parts, k1 = (part + 1) * p.k / parts;
      GemmParams slice = p;
      slice.k = k1 - k0;
      float* out = c;
      if (part > 0) {
        slice.beta = 0.f;
        slice.ldc = p.n;
        out = partials + (part - 1) * p.m * p.n;
      }
      const float* a_slice = p.trans_a ? a + k0 * p.lda : a + k0;
      const float* b_slice = p.trans_b ? b + k0 : b + k0 * p.ldb;
      Blocked<MR, NR>(slice, kernel, a_slice, b_slice, out, 1).run();
    }
  });
  parallel_for(p.m, ceil_div(kCopyGrain, p.n * (parts - 1)), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      for (int64_t part = 1; part < parts; ++part) {
        const float* src = partials + ((part - 1) * p.m + i) * p.n;
        float* dst = c + i * p.ldc;
        for (int64_t j = 0; j < p.n; ++j) dst[j] += src[j];
      }
  });
}

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
      blocked_sgemm<gemm::kAvx512MR, gemm::kAvx512NR>(params, gemm::micro_kernel_avx512, a, b, c);
      return;
    case SimdLevel::AVX2:
      blocked_sgemm<gemm::kAvx2MR, gemm::kAvx2NR>(params, gemm::micro_kernel_avx2, a, b, c);
      return;
#endif
    default:
      blocked_sgemm<gemm::kPortableMR, gemm::kPortableNR>(params, gemm::micro_kernel_portable, a, b, c);
      return;
  }
}

}  // namespace cpu

void sgemm(const GemmParams& params, const float* a, const float* b, float* c) {
  cpu::sgemm_simd(params, cpu_features().simd, a, b, c);
}

}  // namespace pix
