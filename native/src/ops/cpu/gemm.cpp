// The CPU SGEMM of ops/gemm.h: argument checks, packing, cache blocking and threading around one
// micro-kernel per SIMD level (gemm_kernel_*.cpp), picked at run time from cpu_features().
// Not here: the register-level code (the kernels), batched GEMM, dtypes other than f32.
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

// The routines of one SIMD level (gemm_kernels.h).
struct Kernels {
  void (*multiply)(const MicroTile&);
  void (*pack_b_transposed)(const float* b, int64_t ldb, int64_t depth, int cols, int nr, float* panel);
};

// Columns per tile: a KC x NC block of packed B is 512 KB, half of a 1 MB L2.
constexpr int64_t kNC = 512;
// Rows per tile (rounded down to MR): the MC x NC block of C (256 KB) stays in L2 beside B between KC blocks.
constexpr int64_t kMC = 128;
// The share of a 1 MB L2 that packed B and the next block of B may use, in floats (768 KB).
constexpr int64_t kL2Floats = 192 * 1024;
// Rows of C below which packing a block of B from DRAM costs more than ~3% of multiplying it, so
// that a thread working alone prefetches it during the previous block.
constexpr int64_t kPrefetchBRows = 512;
// Packed B per K super-block, in floats (16 MB): bounds the scratch for weight gradients, where K is
// the number of pixels.
constexpr int64_t kMaxPackedB = int64_t{4} << 20;
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

// The blocked product for one kernel's register tile (MR x NR) on `threads` threads (1: the caller
// alone); see the loop nest at the top.
template <int MR, int NR>
class Blocked {
 public:
  Blocked(const GemmParams& p, const Kernels& kernels, const float* a, const float* b, float* c, int threads)
      : p_(p), kernels_(kernels), a_(a), b_(b), c_(c), threads_(threads) {
    n_panels_ = ceil_div(p.n, NR);
    // A single thread working on few rows prefetches the next KC block of B into L2 beside the packed
    // one (both must fit); with more rows, packing B costs little beside multiplying it.
    prefetch_b_ = threads == 1 && p.m < kPrefetchBRows;
    const int64_t max_kc = prefetch_b_ ? std::clamp<int64_t>(kL2Floats / (2 * n_panels_ * NR), kLine, kKC) : kKC;
    kc_ = ceil_div(p.k, ceil_div(p.k, max_kc));  // equal blocks: K = 576 runs as 3 x 192, not 256 + 256 + 64
    // One thread packs one KC block at a time, which stays in L2 while every row panel passes it
    // (the BLIS order); several pack as much as kMaxPackedB allows, so that each wake-up of the pool
    // covers much work.
    super_k_ = kc_ * (threads > 1 ? std::max<int64_t>(1, kMaxPackedB / (kc_ * n_panels_ * NR)) : 1);
    tiling_ = plan_tiles(p.m, p.n, MR, NR, threads);
  }

  void run() {
    thread_local Scratch packed_b_scratch;
    float* packed_b = packed_b_scratch.get(std::min(super_k_, p_.k) * n_panels_ * NR);
    for (int64_t k0 = 0; k0 < p_.k; k0 += super_k_) {
      const int64_t k1 = std::min(p_.k, k0 + super_k_);
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
      if (!p_.trans_b) {  // B (K,N): along each row of B, a long stream from DRAM
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
      for (int64_t panel = begin; panel < end; ++panel)  // B (N,K): a transpose, the kernel file's
        kernels_.pack_b_transposed(b_ + panel * NR * p_.ldb + k0, p_.ldb, depth,
                                   static_cast<int>(std::min<int64_t>(NR, j_end - panel * NR)), NR,
                                   packed + panel * depth * NR);
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

  // What pack_a(i0, rows, k0, depth) reads: a line at a time along rows of A (M,K), or the first and
  // last float of each row segment of A (K,M).
  PrefetchPlan a_source(int64_t i0, int64_t rows, int64_t k0, int64_t depth) const {
    PrefetchPlan plan;
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
  void multiply(int64_t k0, int64_t k1, const float* packed_b) const {
    const Tiling& t = tiling_;
    const int64_t tiles = t.row_tiles * t.col_tiles;
    const PrefetchPlan next_b = prefetch_b_ && k1 < p_.k ? b_source(k1, std::min(p_.k, k1 + super_k_)) : PrefetchPlan{};
    const int64_t calls = ceil_div(p_.m, MR) * n_panels_ * ceil_div(k1 - k0, kc_);
    // Equal runs of tiles, one parallel_for chunk each; tiles run down a column of C within a run,
    // so consecutive tiles share their packed B.
    const int64_t runs = std::min(tiles, kTilesPerThread * threads_);
    parallel_for(runs, threads_ > 1 ? 1 : runs, [&](int64_t begin, int64_t end) {
      thread_local Scratch packed_a_scratch;
      float* packed_a = packed_a_scratch.get(MR * kPackedRowStride);
      Share b_share{next_b, ceil_div(next_b.rows, calls), 0};  // non-empty only with one thread, one chunk
      const int64_t last = end * tiles / runs;
      for (int64_t tile = begin * tiles / runs; tile < last; ++tile) {
        const int64_t i0 = tile % t.row_tiles * t.mc, j0 = tile / t.row_tiles * t.nc;
        const int64_t next_i0 = tile + 1 < last ? (tile + 1) % t.row_tiles * t.mc : p_.m;
        multiply_tile({i0, std::min(p_.m, i0 + t.mc), j0, std::min(p_.n, j0 + t.nc)}, k0, k1, packed_b, packed_a,
                      next_i0, std::min(p_.m, next_i0 + t.mc), b_share);
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

  // C[r] over depth [k0, k1), with rows [next_i0, next_i1) due next: their first panel is prefetched
  // during the last panel here.
  void multiply_tile(const Rect& r, int64_t k0, int64_t k1, const float* packed_b, float* packed_a, int64_t next_i0,
                     int64_t next_i1, Share& b_share) const {
    MicroTile tile;
    tile.layout = p_.trans_a ? PanelLayout::KMajor : PanelLayout::RowMajor;
    tile.a = packed_a;
    tile.ldc = p_.ldc;
    tile.alpha = p_.alpha;
    const int64_t calls = ceil_div(r.j1 - r.j0, NR);  // kernel calls per A panel, which share its prefetching
    for (int64_t kb = k0; kb < k1; kb += kc_) {
      tile.kc = std::min(kc_, k1 - kb);
      tile.beta = kb == 0 ? p_.beta : 1.f;  // later K blocks add to what the first one wrote
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
          tile.b = packed_b + (j / NR) * (k1 - k0) * NR + (kb - k0) * NR;
          tile.c = c_ + i * p_.ldc + j;
          tile.next_a = share_of(next_a, call * a_per_call, a_per_call);
          tile.next_b = share_of(b_share.plan, b_share.handed, b_share.per_call);
          b_share.handed += b_share.per_call;
          kernels_.multiply(tile);
        }
      }
    }
  }

  static constexpr int64_t kLine = 64 / sizeof(float);  // floats per cache line

  const GemmParams& p_;
  const Kernels& kernels_;
  const float* a_;
  const float* b_;
  float* c_;
  const int threads_;
  bool prefetch_b_;
  int64_t kc_, n_panels_, super_k_;
  Tiling tiling_;
};

// The product on all threads. When C is too small to give every thread full-size tiles but K is deep
// (weight gradients: K = pixels), each thread instead takes a slice of K whole, serially and in the
// BLIS order, into its own partial C; the partials are then summed into C.
template <int MR, int NR>
void blocked_sgemm(const GemmParams& p, const Kernels& kernels, const float* a, const float* b, float* c) {
  const int threads = p.m * p.n * p.k < kMinParallelMacs ? 1 : cpu_threads();
  const Tiling full = plan_tiles(p.m, p.n, MR, NR, 1);
  const int64_t parts = full.row_tiles * full.col_tiles < kTilesPerThread * threads
                            ? std::min<int64_t>(threads, p.k / (kMinSplitBlocks * kKC))
                            : 1;
  if (parts <= 1) {
    Blocked<MR, NR>(p, kernels, a, b, c, threads).run();
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
      Blocked<MR, NR>(slice, kernels, a_slice, b_slice, out, 1).run();
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
      blocked_sgemm<gemm::kAvx512MR, gemm::kAvx512NR>(
          params, {gemm::micro_kernel_avx512, gemm::pack_b_transposed_avx2}, a, b, c);
      return;
    case SimdLevel::AVX2:
      blocked_sgemm<gemm::kAvx2MR, gemm::kAvx2NR>(params, {gemm::micro_kernel_avx2, gemm::pack_b_transposed_avx2}, a,
                                                  b, c);
      return;
#endif
    default:
      blocked_sgemm<gemm::kPortableMR, gemm::kPortableNR>(
          params, {gemm::micro_kernel_portable, gemm::pack_b_transposed_portable}, a, b, c);
      return;
  }
}

}  // namespace cpu

void sgemm(const GemmParams& params, const float* a, const float* b, float* c) {
  cpu::sgemm_simd(params, cpu_features().simd, a, b, c);
}

}  // namespace pix
