// Winograd F(4x4, 3x3) on the CPU (ops/cpu/conv2d_winograd.h).
//
// The output is cut into 4x4 tiles (N * ceil(P/4) * ceil(Q/4) of them), each computed from a 6x6
// tile of the input: V = B^T d B per input channel, M = sum over input channels of U (.) V with
// U = G g G^T per (input, output) channel pair, y = A^T M A. The sums are 36 matrix products (tiles x
// K times K x output channels), run on the SGEMM's micro-kernel (ops/cpu/gemm_kernels.h) over panels
// packed the way it reads them: V as row-major A panels of MR tiles, U as B panels of NR output
// channels. Nothing of size N*H*W*36 is written out; two schedules keep the working set in L2:
//   input-stationary (many tiles: ResNet-50's 56x56 .. 14x14 layers at batch 16): U made once for all
//     the output channels; then each unit of work, a block of a few MR-row panels of tiles and a chunk
//     of output channels, transforms its block's input, multiplies, and transforms its outputs back
//     (with the epilogue), while the next unit's input and its own output are prefetched;
//   weight-stationary (at least 4 output channels per tile: the 7x7 layers): the input of a block of
//     tiles transformed once, shared; each unit, one NR panel of output channels, transforms its own
//     weights a 256-deep block of input channels and a row of 6 products at a time into L2 and uses
//     them at once (U of a 512 x 512 layer is 38 MB: written out and read back it cost more than the
//     products saved).
// The transforms run on 16 channels at a time (GCC/Clang vector extension) in functions compiled for
// the host's SIMD level (target attributes).
//
// Accuracy: the interpolation points are 0, 1, -1, 2, -1/2 and infinity rather than the usual
// 0, +-1, +-2: the transforms' coefficients are smaller, and the fp32 error is about half the usual
// set's. Measured against the double-precision direct loop: 1e-6 .. 2e-6 of a convolution's output
// scale (the usual points: 2.6e-6 .. 4.4e-6; the implicit GEMM: 1e-7 .. 3e-7); on the full-size
// ResNet-50 fixture (batch 2, train-mode logits) 2.4e-5 against PyTorch (usual points 3.8e-5, the
// implicit GEMM alone 1.3e-5), inside the conformance tests' 1e-4.
// A NaN or infinity in an input tile reaches all 16 outputs of the tile (and of the tiles that share
// its pixel), not only the 3x3 neighbourhood a direct convolution would give it.
#include "ops/cpu/conv2d_winograd.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/precision.h"
#include "core/thread_pool.h"
#include "ops/cpu/conv2d_winograd_transforms.h"
#include "ops/cpu/gemm_kernels.h"
#include "ops/cpu/scratch.h"

namespace pix::cpu {
namespace {

using gemm::kKC;
using gemm::kPackedRowStride;
using gemm::MicroTile;
using gemm::PanelLayout;

using namespace winograd;

constexpr int kMaxNR = 32;  // the widest micro-kernel panel

// ---- The problem and its plan ----------------------------------------------------------------

// A 3x3 stride-1 pad-1 convolution of `in` (N,H,W,K) into `out` (N,H,W,cout), finished as
// out (+)= relu?(conv + bias (+ residual)).
struct Problem {
  const float* in;
  int64_t n, h, w, k, cout;
  float* out;
  const float* bias = nullptr;
  const float* residual = nullptr;
  bool relu = false;
  bool accumulate = false;  // out += conv (a backward with GradWrite::Accumulate)
};

struct Kernel {
  int mr, nr;
  void (*multiply)(const MicroTile&);
};

Kernel host_kernel() {
  switch (cpu_features().simd) {
#if PIX_GEMM_X86_KERNELS
    case SimdLevel::AVX512:
      return {gemm::kAvx512MR, gemm::kAvx512NR, gemm::micro_kernel_avx512};
    case SimdLevel::AVX2:
      return {gemm::kAvx2MR, gemm::kAvx2NR, gemm::micro_kernel_avx2};
#endif
    default:
      return {gemm::kPortableMR, gemm::kPortableNR, gemm::micro_kernel_portable};
  }
}

int64_t ceil_div(int64_t x, int64_t y) { return (x + y - 1) / y; }
int64_t round_up(int64_t x, int64_t y) { return ceil_div(x, y) * y; }

// Bytes of transformed input an input-stationary block may take (36 * K floats per tile): with the
// block's share of the products (36 * chunk floats per tile) it stays in a 1 MB L2 (measured: 128 and
// 256 KB alike, 1 MB 15% slower and 4 MB 40% on ResNet-50's 56x56 and 28x28 layers).
constexpr int64_t kInputBlockBytes = int64_t{256} << 10;
// Units of work wanted per thread at least, so that uneven units and a shared core balance.
constexpr int64_t kUnitsPerThread = 4;
// Bytes of products M a weight-stationary unit may hold: with its weights' buffers, within L2.
constexpr int64_t kWeightStationaryMBytes = int64_t{512} << 10;

struct Plan {
  Kernel kernel;
  int64_t tiles_h, tiles_w, tiles;  // output tiles: N * tiles_h * tiles_w
  int64_t n_panels;                 // NR-wide panels of output channels
  int64_t k_blocks;                 // KC-deep blocks of input channels
  int64_t block_panels, block_tiles, blocks;  // MR-row panels (of tiles) per block
  int64_t chunk_panels, chunks;               // NR panels of output channels per chunk
  int64_t ldm;                                // row stride of a unit's products M
  // Weight-stationary (few tiles, many weights): a block's input transformed once, shared by all the
  // threads, and each unit (one panel of output channels) transforming its own weights as it goes.
  // Else input-stationary: the weights transformed once into U, each unit its own block's input.
  bool weight_stationary;
  int64_t units() const { return blocks * chunks; }
};

Plan make_plan(const Problem& pb) {
  Plan p;
  p.kernel = host_kernel();
  PIX_CHECK(p.kernel.nr <= kMaxNR, "conv2d (Winograd): micro-kernel panels wider than ", kMaxNR);
  const int64_t mr = p.kernel.mr, nr = p.kernel.nr;
  p.tiles_h = ceil_div(pb.h, 4), p.tiles_w = ceil_div(pb.w, 4);
  p.tiles = pb.n * p.tiles_h * p.tiles_w;
  p.n_panels = ceil_div(pb.cout, nr);
  p.k_blocks = ceil_div(pb.k, kKC);
  const int64_t row_panels = ceil_div(p.tiles, mr);
  // Measured (batch 16 and others): weight-stationary pays from about 4 output channels per tile
  // (ResNet-50's 7x7x512 at batch 16: 2.2x the implicit GEMM, against 1.5x input-stationary).
  p.weight_stationary = 4 * p.tiles <= pb.cout;
  if (p.weight_stationary) {  // blocks whose products for one panel (36 x tiles x NR) stay in L2
    const int64_t panel_bytes = 36 * mr * nr * static_cast<int64_t>(sizeof(float));
    p.blocks = ceil_div(row_panels, std::clamp<int64_t>(kWeightStationaryMBytes / panel_bytes, 1, row_panels));
    p.block_panels = ceil_div(row_panels, p.blocks);
    p.blocks = ceil_div(row_panels, p.block_panels);
    p.block_tiles = p.block_panels * mr;
    p.chunk_panels = 1, p.chunks = p.n_panels;
    p.ldm = round_up(std::min<int64_t>(pb.cout, nr), kLanes);
    return p;
  }
  const int64_t tile_bytes = 36 * round_up(pb.k, kLanes) * static_cast<int64_t>(sizeof(float));
  const int64_t wanted = std::clamp<int64_t>(kInputBlockBytes / (tile_bytes * mr), 1, row_panels);
  p.blocks = ceil_div(row_panels, wanted);
  p.block_panels = ceil_div(row_panels, p.blocks);  // evened out
  p.blocks = ceil_div(row_panels, p.block_panels);
  p.block_tiles = p.block_panels * mr;
  const int64_t units = kUnitsPerThread * cpu_threads();
  p.chunks = std::clamp<int64_t>(ceil_div(units, p.blocks), 1, p.n_panels);
  p.chunk_panels = ceil_div(p.n_panels, p.chunks);
  p.chunks = ceil_div(p.n_panels, p.chunk_panels);
  p.ldm = round_up(std::min(pb.cout, p.chunk_panels * nr), kLanes);
  return p;
}

Scratch& taps_scratch() {
  thread_local Scratch s;
  return s;
}
Scratch& slice_scratch() {
  thread_local Scratch s;
  return s;
}

// ---- The three stages, and the weight transform ----------------------------------------------
// Compiled once per SIMD level (the Body wrappers at the end): everything here is inlined into them.

// The weights, one panel of NR output channels and up to 256 input channels at a time: their taps
// gathered into lanes of output channels, taps[(kk * 9 + t) * NR + lane], then transformed a row of 6
// products at a time.

using VecI = int32_t __attribute__((vector_size(kLanes * sizeof(int32_t))));
#if defined(__clang__)
#define PIX_SHUFFLE(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define PIX_SHUFFLE(a, b, ...) __builtin_shuffle(a, b, VecI{__VA_ARGS__})
#endif

// r[i][j] <-> r[j][i]: the off-diagonal 8x8, 4x4, 2x2 and 1x1 blocks swapped in turn.
PIX_INLINE void transpose16(Vec (&r)[16]) {
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    const Vec a = r[i], b = r[i + 8];
    r[i] = PIX_SHUFFLE(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    r[i + 8] = PIX_SHUFFLE(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i)
    if (!(i & 4)) {
      const Vec a = r[i], b = r[i + 4];
      r[i] = PIX_SHUFFLE(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
      r[i + 4] = PIX_SHUFFLE(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i)
    if (!(i & 2)) {
      const Vec a = r[i], b = r[i + 2];
      r[i] = PIX_SHUFFLE(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
      r[i + 2] = PIX_SHUFFLE(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
    }
#pragma GCC unroll 16
  for (int i = 0; i < 16; i += 2) {
    const Vec a = r[i], b = r[i + 1];
    r[i] = PIX_SHUFFLE(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    r[i + 1] = PIX_SHUFFLE(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  }
}

// taps (kc x 9 x NR) of output panel j and input channels [k0, k0 + kc); zero past the last channel.
PIX_INLINE void gather_taps(const Plan& p, const Problem& pb, const float* w, bool backward, int64_t j, int64_t k0,
                            int64_t kc, float* taps) {
  const int64_t nr = p.kernel.nr, o0 = j * nr;
  const int cols = static_cast<int>(std::min<int64_t>(nr, pb.cout - o0));
  const int width = static_cast<int>(std::min<int64_t>(nr, kLanes));
  if (backward) {  // flipped and transposed, (input o, output c): w[(o * 9 + 8 - t) * C + c], a copy
    for (int64_t kk = 0; kk < kc; ++kk)
      for (int t = 0; t < 9; ++t) {
        float* dst = taps + (kk * 9 + t) * nr;
        std::memcpy(dst, w + ((k0 + kk) * 9 + 8 - t) * pb.cout + o0, cols * sizeof(float));
        std::fill(dst + cols, dst + nr, 0.f);
      }
    return;
  }
  // Tap t of (input c, output o): w[(o * 9 + t) * C + c], a transpose: 16 x 16 blocks, each read
  // along 16 rows of w (streams the hardware prefetcher follows), transposed in registers, stored
  // along rows of taps.
  for (int l0 = 0; l0 < nr; l0 += width) {
    const int lanes = static_cast<int>(std::clamp<int64_t>(cols - l0, 0, kLanes));
    for (int t = 0; t < 9; ++t)
      for (int64_t kk0 = 0; kk0 < kc; kk0 += kLanes) {
        const int depth = static_cast<int>(std::min<int64_t>(kLanes, kc - kk0));
        Vec r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i)
          r[i] = i < lanes ? load(w + ((o0 + l0 + i) * 9 + t) * pb.k + k0 + kk0, depth) : Vec{};
        transpose16(r);
        for (int kk = 0; kk < depth; ++kk) store(taps + ((kk0 + kk) * 9 + t) * nr + l0, r[kk], width);
      }
  }
}

// Products 6a .. 6a + 5 of the taps: out[b * b_stride + kk * NR + lane] = (G g G^T)[a][b].
PIX_INLINE void transform_taps(const Plan& p, const float* taps, int64_t kc, int a, float* out, int64_t b_stride) {
  const int64_t nr = p.kernel.nr;
  const int width = static_cast<int>(std::min<int64_t>(nr, kLanes));
  for (int64_t kk = 0; kk < kc; ++kk)
    for (int l0 = 0; l0 < nr; l0 += width) {
      Vec g[9];
#pragma GCC unroll 9
      for (int t = 0; t < 9; ++t) g[t] = load(taps + (kk * 9 + t) * nr + l0, width);
      Vec row[3];  // (G g)[a]
#pragma GCC unroll 3
      for (int kw = 0; kw < 3; ++kw) row[kw] = kG[a][0] * g[kw] + kG[a][1] * g[3 + kw] + kG[a][2] * g[6 + kw];
#pragma GCC unroll 6
      for (int b = 0; b < 6; ++b)
        store(out + b * b_stride + kk * nr + l0, kG[b][0] * row[0] + kG[b][1] * row[1] + kG[b][2] * row[2], width);
    }
}

// Input-stationary: U, packed, the B panels of product xi (0..35) at u[((xi * n_panels + j) * K + k) *
// NR + lane] (panel j: output channels [j * NR, j * NR + NR), zero past cout). Pieces: (panel, K block).
PIX_INLINE void transform_weights(const Plan& p, const Problem& pb, const float* w, bool backward, float* u,
                                  int64_t begin, int64_t end) {
  const int64_t nr = p.kernel.nr;
  float* taps = taps_scratch().get<float>(kKC * 9 * nr);
  for (int64_t piece = begin; piece < end; ++piece) {
    const int64_t j = piece / p.k_blocks, k0 = piece % p.k_blocks * kKC, kc = std::min<int64_t>(kKC, pb.k - k0);
    gather_taps(p, pb, w, backward, j, k0, kc, taps);
    for (int a = 0; a < 6; ++a)
      transform_taps(p, taps, kc, a, u + ((6 * a * p.n_panels + j) * pb.k + k0) * nr, p.n_panels * pb.k * nr);
  }
}

// The pieces transform_weights takes.
int64_t weight_pieces(const Plan& p) { return p.n_panels * p.k_blocks; }

// Memory for the multiply stage to prefetch while it runs (the next unit's input, this unit's output
// and residual): the stages around it would otherwise wait on DRAM. Whole cache lines of up to three
// ranges, in turn.
struct Prefetch {
  struct Range {
    const float* base = nullptr;
    int64_t lines = 0;
    bool write = false;
  };
  Range ranges[3];
  int count = 0;
  int64_t total() const {
    int64_t lines = 0;
    for (int r = 0; r < count; ++r) lines += ranges[r].lines;
    return lines;
  }
  void add(const float* begin, const float* end, bool write) {
    if (end > begin) ranges[count++] = {begin, (end - begin + 15) / 16, write};
  }
  // The next `lines` lines.
  void issue(int64_t lines) {
    for (; lines > 0 && range_ < count; --lines) {
      const Range& r = ranges[range_];
      const float* at = r.base + line_ * 16;
      if (r.write)
        __builtin_prefetch(at, 1, 3);
      else
        __builtin_prefetch(at, 0, 3);
      if (++line_ == r.lines) line_ = 0, ++range_;
    }
  }

 private:
  int range_ = 0;
  int64_t line_ = 0;
};

// One unit: tiles [t0, t0 + count) and output channels [o0, o1).
struct Unit {
  int64_t t0, count, o0, o1;
};

Unit unit_at(const Plan& p, const Problem& pb, int64_t index) {
  const int64_t block = index / p.chunks, chunk = index % p.chunks;
  Unit unit;
  unit.t0 = block * p.block_tiles;
  unit.count = std::min(p.block_tiles, p.tiles - unit.t0);
  unit.o0 = chunk * p.chunk_panels * p.kernel.nr;
  unit.o1 = std::min(pb.cout, unit.o0 + p.chunk_panels * p.kernel.nr);
  return unit;
}

// The rows [first, end) of whole images' pixels that tiles [t0, t0 + count) touch, as pixel indices
// into (N,H,W): input rows one above and one below theirs (`halo` = 1), or exactly their output rows.
void tile_rows(const Plan& p, const Problem& pb, const Unit& u, int halo, int64_t* first, int64_t* end) {
  const int64_t per_image = p.tiles_h * p.tiles_w, last = u.t0 + u.count - 1;
  const int64_t r0 = std::max<int64_t>(0, u.t0 / p.tiles_w % p.tiles_h * 4 - halo);
  const int64_t r1 = std::min<int64_t>(pb.h, last / p.tiles_w % p.tiles_h * 4 + 4 + halo);
  *first = (u.t0 / per_image * pb.h + r0) * pb.w;
  *end = (last / per_image * pb.h + r1) * pb.w;
}

// Stage 1: the block's input tiles t0 + [i0, i1), transformed, into A panels: product xi, K block kb,
// panel g at v + ((xi * k_blocks + kb) * block_panels + g) * MR * kPackedRowStride, tile i of the
// block in row i % MR of panel i / MR.
PIX_INLINE void transform_input(const Plan& p, const Problem& pb, int64_t t0, int64_t i0, int64_t i1, float* v) {
  const int64_t mr = p.kernel.mr;
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t t = t0 + i;
    const int64_t n = t / (p.tiles_h * p.tiles_w), h0 = t / p.tiles_w % p.tiles_h * 4 - 1, w0 = t % p.tiles_w * 4 - 1;
    const bool inside = h0 >= 0 && w0 >= 0 && h0 + 6 <= pb.h && w0 + 6 <= pb.w;
    const int64_t corner = ((n * pb.h + h0) * pb.w + w0) * pb.k;  // may lie outside x: not read then
    float* row = v + (i / mr * mr + i % mr) * kPackedRowStride;
    for (int64_t c0 = 0; c0 < pb.k; c0 += kLanes) {
      const int lanes = static_cast<int>(std::min<int64_t>(kLanes, pb.k - c0));
      Vec d[36];
      if (inside && lanes == kLanes) {
#pragma GCC unroll 6
        for (int r = 0; r < 6; ++r)
#pragma GCC unroll 6
          for (int s = 0; s < 6; ++s) d[6 * r + s] = load(pb.in + (corner + (r * pb.w + s) * pb.k + c0));
      } else {
        for (int r = 0; r < 6; ++r)
          for (int s = 0; s < 6; ++s) {
            const bool in_image = h0 + r >= 0 && h0 + r < pb.h && w0 + s >= 0 && w0 + s < pb.w;
            d[6 * r + s] = in_image ? load(pb.in + (corner + (r * pb.w + s) * pb.k + c0), lanes) : Vec{};
          }
      }
      Vec x[36];
      input_transform(d, x);
      const int64_t kb = c0 / kKC;
      float* dst = row + kb * p.block_panels * mr * kPackedRowStride + c0 % kKC;  // whole vectors: rows have room
      const int64_t xi_stride = p.k_blocks * p.block_panels * mr * kPackedRowStride;
#pragma GCC unroll 36
      for (int xi = 0; xi < 36; ++xi) store(dst + xi * xi_stride, x[xi]);
    }
  }
}

// Stage 2: m (36 x block_tiles x ldm; product xi's rows first) = the 36 products of the block's
// tiles and the chunk's panels of U.
void multiply(const Plan& p, const Problem& pb, const Unit& unit, const float* u, const float* v, float* m,
              Prefetch& prefetch) {
  const int64_t mr = p.kernel.mr, nr = p.kernel.nr;
  const int64_t panels = ceil_div(unit.count, mr);
  const int64_t per_call = ceil_div(prefetch.total(), 36 * p.k_blocks * ceil_div(unit.o1 - unit.o0, nr) * panels);
  MicroTile tile{};
  tile.layout = PanelLayout::RowMajor;
  tile.ldc = p.ldm;
  tile.alpha = 1.f;
  tile.bias = tile.residual = nullptr;
  tile.relu = false;
  for (int xi = 0; xi < 36; ++xi)
    for (int64_t kb = 0; kb < p.k_blocks; ++kb) {
      tile.kc = std::min<int64_t>(kKC, pb.k - kb * kKC);
      tile.beta = kb == 0 ? 0.f : 1.f;
      const float* a = v + (xi * p.k_blocks + kb) * p.block_panels * mr * kPackedRowStride;
      for (int64_t o = unit.o0; o < unit.o1; o += nr) {
        tile.cols = static_cast<int>(std::min<int64_t>(nr, unit.o1 - o));
        tile.b = u + ((xi * p.n_panels + o / nr) * pb.k + kb * kKC) * nr;
        for (int64_t g = 0; g < panels; ++g) {
          tile.rows = static_cast<int>(std::min<int64_t>(mr, unit.count - g * mr));
          tile.a = a + g * mr * kPackedRowStride;
          tile.c = m + (xi * p.block_tiles + g * mr) * p.ldm + (o - unit.o0);
          p.kernel.multiply(tile);
          prefetch.issue(per_call);
        }
      }
    }
}

// Stage 3: the block's output tiles from m, finished, into out.
PIX_INLINE void transform_output(const Plan& p, const Problem& pb, const Unit& unit, const float* m) {
  const int64_t xi_stride = p.block_tiles * p.ldm;
  for (int64_t i = 0; i < unit.count; ++i) {
    const int64_t t = unit.t0 + i;
    const int64_t n = t / (p.tiles_h * p.tiles_w), h0 = t / p.tiles_w % p.tiles_h * 4, w0 = t % p.tiles_w * 4;
    const int rows = static_cast<int>(std::min<int64_t>(4, pb.h - h0)), cols = static_cast<int>(std::min<int64_t>(4, pb.w - w0));
    for (int64_t o = unit.o0; o < unit.o1; o += kLanes) {
      const int lanes = static_cast<int>(std::min<int64_t>(kLanes, unit.o1 - o));
      const float* src = m + i * p.ldm + (o - unit.o0);
      Vec x[36];
#pragma GCC unroll 36
      for (int xi = 0; xi < 36; ++xi) x[xi] = load(src + xi * xi_stride);  // whole vectors: ldm has room
      Vec y[16];
      output_transform(x, y);
      const Vec bias = pb.bias ? load(pb.bias + o, lanes) : Vec{};
      float* corner = pb.out + ((n * pb.h + h0) * pb.w + w0) * pb.cout + o;
      const float* residual = pb.residual ? pb.residual + (corner - pb.out) : nullptr;
      const auto finish = [&](int r, int s, const Vec& value) __attribute__((always_inline)) {
        const int64_t at = (r * pb.w + s) * pb.cout;
        Vec out = value + bias;
        if (residual) out += load(residual + at, lanes);
        if (pb.accumulate) out += load(corner + at, lanes);
        if (pb.relu) out = out > 0.f ? out : Vec{};  // keeps out > 0 only: NaN becomes 0, as the SGEMM's ReLU
        store(corner + at, out, lanes);
      };
      if (rows == 4 && cols == 4) {
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
          for (int s = 0; s < 4; ++s) finish(r, s, y[4 * r + s]);
      } else {
        for (int r = 0; r < rows; ++r)
          for (int s = 0; s < cols; ++s) finish(r, s, y[4 * r + s]);
      }
    }
  }
}

Scratch& v_scratch() {
  thread_local Scratch s;
  return s;
}
Scratch& m_scratch() {
  thread_local Scratch s;
  return s;
}

// Unit `index`, then `next` (-1: none) in this thread.
PIX_INLINE void run_unit(const Plan& p, const Problem& pb, const float* u, int64_t index, int64_t next) {
  const Unit unit = unit_at(p, pb, index);
  Prefetch prefetch;
  int64_t first, end;
  if (next >= 0 && next / p.chunks != index / p.chunks) {  // a new block of input tiles
    tile_rows(p, pb, unit_at(p, pb, next), 1, &first, &end);
    prefetch.add(pb.in + first * pb.k, pb.in + end * pb.k, false);
  }
  if (p.chunks == 1) {  // whole rows of the output are this unit's
    tile_rows(p, pb, unit, 0, &first, &end);
    prefetch.add(pb.out + first * pb.cout, pb.out + end * pb.cout, true);
    if (pb.residual) prefetch.add(pb.residual + first * pb.cout, pb.residual + end * pb.cout, false);
  }
  float* v = v_scratch().get<float>(36 * p.k_blocks * p.block_panels * p.kernel.mr * kPackedRowStride);
  float* m = m_scratch().get<float>(36 * p.block_tiles * p.ldm);
  transform_input(p, pb, unit.t0, 0, unit.count, v);
  multiply(p, pb, unit, u, v, m, prefetch);
  transform_output(p, pb, unit, m);
}

// Weight-stationary unit: output channels [j * NR, j * NR + NR) of block `block`, whose transformed
// input v all units share. Its weights are transformed 256 input channels and one row of 6 products
// at a time (6 x 256 x NR floats), each used at once by the 6 products of all the block's panels.
PIX_INLINE void run_panel(const Plan& p, const Problem& pb, const float* w, bool backward, const float* v,
                          int64_t block, int64_t j) {
  const int64_t mr = p.kernel.mr, nr = p.kernel.nr;
  Unit unit;
  unit.t0 = block * p.block_tiles;
  unit.count = std::min(p.block_tiles, p.tiles - unit.t0);
  unit.o0 = j * nr;
  unit.o1 = std::min(pb.cout, unit.o0 + nr);
  const int cols = static_cast<int>(unit.o1 - unit.o0);
  const int64_t panels = ceil_div(unit.count, mr);
  float* taps = taps_scratch().get<float>(kKC * 9 * nr);  // [kk][tap][lane]
  float* slice = slice_scratch().get<float>(6 * kKC * nr);  // [b][kk][lane]: products 6a .. 6a + 5
  float* m = m_scratch().get<float>(36 * p.block_tiles * p.ldm);
  MicroTile tile{};
  tile.layout = PanelLayout::RowMajor;
  tile.ldc = p.ldm;
  tile.alpha = 1.f;
  tile.cols = cols;
  for (int64_t kb = 0; kb < p.k_blocks; ++kb) {
    const int64_t k0 = kb * kKC, kc = std::min<int64_t>(kKC, pb.k - k0);
    gather_taps(p, pb, w, backward, j, k0, kc, taps);
    tile.kc = kc;
    tile.beta = kb == 0 ? 0.f : 1.f;
    for (int a = 0; a < 6; ++a) {
      transform_taps(p, taps, kc, a, slice, kc * nr);
      for (int b = 0; b < 6; ++b) {
        const int64_t xi = 6 * a + b;
        tile.b = slice + b * kc * nr;
        const float* panel_a = v + (xi * p.k_blocks + kb) * p.block_panels * mr * kPackedRowStride;
        for (int64_t g = 0; g < panels; ++g) {
          tile.rows = static_cast<int>(std::min<int64_t>(mr, unit.count - g * mr));
          tile.a = panel_a + g * mr * kPackedRowStride;
          tile.c = m + (xi * p.block_tiles + g * mr) * p.ldm;
          p.kernel.multiply(tile);
        }
      }
    }
  }
  transform_output(p, pb, unit, m);
}

// ---- One body per SIMD level -----------------------------------------------------------------

struct Body {
  void (*units)(const Plan&, const Problem&, const float* u, int64_t begin, int64_t end);
  void (*weights)(const Plan&, const Problem&, const float* w, bool backward, float* u, int64_t begin, int64_t end);
  void (*inputs)(const Plan&, const Problem&, int64_t t0, int64_t i0, int64_t i1, float* v);
  void (*panels)(const Plan&, const Problem&, const float* w, bool backward, const float* v, int64_t block,
                 int64_t begin, int64_t end);
};

#define PIX_WINOGRAD_BODY(NAME, ATTRIBUTES)                                                                    \
  ATTRIBUTES void NAME##_units(const Plan& p, const Problem& pb, const float* u, int64_t begin, int64_t end) { \
    for (int64_t i = begin; i < end; ++i) run_unit(p, pb, u, i, i + 1 < end ? i + 1 : -1);                    \
  }                                                                                                            \
  ATTRIBUTES void NAME##_weights(const Plan& p, const Problem& pb, const float* w, bool backward, float* u,     \
                                 int64_t begin, int64_t end) {                                                 \
    transform_weights(p, pb, w, backward, u, begin, end);                                                      \
  }                                                                                                            \
  ATTRIBUTES void NAME##_inputs(const Plan& p, const Problem& pb, int64_t t0, int64_t i0, int64_t i1, float* v) { \
    transform_input(p, pb, t0, i0, i1, v);                                                                     \
  }                                                                                                            \
  ATTRIBUTES void NAME##_panels(const Plan& p, const Problem& pb, const float* w, bool backward, const float* v, \
                                int64_t block, int64_t begin, int64_t end) {                                   \
    for (int64_t j = begin; j < end; ++j) run_panel(p, pb, w, backward, v, block, j);                          \
  }                                                                                                            \
  constexpr Body NAME##_body{NAME##_units, NAME##_weights, NAME##_inputs, NAME##_panels};

PIX_SIMD_BODIES(PIX_WINOGRAD_BODY)

// The whole convolution; `backward`: the weights are the forward's, to be flipped and transposed.
void run(const Problem& pb, const float* w, bool backward) {
  if (pb.n == 0 || pb.cout == 0) return;
  const Plan p = make_plan(pb);
  const Body& body = host_body();
  // The buffers all threads share, from the engine's allocator, which keeps freed blocks for reuse: a
  // thread-local one would be held by each thread that ever ran a convolution (the addon's several).
  if (p.weight_stationary) {
    const int64_t mr = p.kernel.mr;
    const Tensor shared = Tensor::empty({36 * p.k_blocks * p.block_panels * mr * kPackedRowStride}, DType::F32);
    float* v = shared.data<float>();
    for (int64_t block = 0; block < p.blocks; ++block) {
      const int64_t t0 = block * p.block_tiles, count = std::min(p.block_tiles, p.tiles - t0);
      parallel_for(ceil_div(count, mr), 1, [&](int64_t begin, int64_t end) {
        body.inputs(p, pb, t0, begin * mr, std::min(count, end * mr), v);
      });
      parallel_for(p.n_panels, 1, [&](int64_t begin, int64_t end) { body.panels(p, pb, w, backward, v, block, begin, end); });
    }
    return;
  }
  const Tensor shared = Tensor::empty({36 * p.n_panels * pb.k * p.kernel.nr}, DType::F32);
  float* u = shared.data<float>();
  parallel_for(weight_pieces(p), 1,
               [&](int64_t begin, int64_t end) { body.weights(p, pb, w, backward, u, begin, end); });
  parallel_for(p.units(), 1, [&](int64_t begin, int64_t end) { body.units(p, pb, u, begin, end); });
}

int winograd_setting() {  // PIX_CONV_WINOGRAD: 0 off, anything else (or unset) on where it pays
  static const int setting = [] {
    const char* env = std::getenv("PIX_CONV_WINOGRAD");
    return env && std::string(env) == "0" ? 0 : 1;
  }();
  return setting;
}

}  // namespace

bool winograd_applies(const ConvShape& s) { return s.kernel == 3 && s.stride == 1 && s.pad == 1 && s.c > 0; }

bool winograd_preferred(const ConvShape& s) {
  if (!winograd_applies(s) || winograd_setting() == 0 || cpu_compute_precision() != ComputePrecision::F32)
    return false;
  // Measured at batch 16 against the implicit GEMM (forward): Winograd wins from 8 input channels
  // (4 -> 64 at 56x56: 0.7x; 8 -> 8: 1.45x; ResNet-50's layers 2.2-3.3x) and where at least half of a
  // tile's 16 outputs lie inside the image (3x3 images: 1.3x, 5x5 images 1.1x, 2x2: 0.6x, 1x1: 0.25x).
  const int64_t tile_outputs = 16 * ((s.p + 3) / 4) * ((s.q + 3) / 4);
  return s.c >= 8 && s.o >= 8 && 2 * s.p * s.q >= tile_outputs;
}

void conv2d_forward_winograd(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue,
                             Tensor& y) {
  PIX_CHECK(winograd_applies(s), "conv2d: the Winograd kernel computes 3x3 stride-1 pad-1 convolutions only, got ",
            s.kernel, "x", s.kernel, " stride ", s.stride, " pad ", s.pad);
  Problem pb;
  pb.in = x.data<float>();
  pb.n = s.n, pb.h = s.h, pb.w = s.w, pb.k = s.c, pb.cout = s.o;
  pb.out = y.data<float>();
  pb.bias = epilogue.bias.defined() ? epilogue.bias.data<float>() : nullptr;
  pb.residual = epilogue.residual.defined() ? epilogue.residual.data<float>() : nullptr;
  pb.relu = epilogue.relu;
  run(pb, w.data<float>(), false);
  if (epilogue.mean.defined()) {  // of the stored y, per image, summed in double
    float* mean = epilogue.mean.data<float>();
    const float* ys = pb.out;
    parallel_for(s.n, 1, [&](int64_t begin, int64_t end) {
      std::vector<double> sums(static_cast<size_t>(s.o));
      for (int64_t n = begin; n < end; ++n) {
        std::fill(sums.begin(), sums.end(), 0.0);
        for (int64_t pq = 0; pq < s.p * s.q; ++pq) {
          const float* row = ys + (n * s.p * s.q + pq) * s.o;
          for (int64_t o = 0; o < s.o; ++o) sums[o] += row[o];
        }
        for (int64_t o = 0; o < s.o; ++o) mean[n * s.o + o] = static_cast<float>(sums[o] / static_cast<double>(s.p * s.q));
      }
    });
  }
}

void conv2d_backward_data_winograd(const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor& dx,
                                   GradWrite write) {
  PIX_CHECK(winograd_applies(s), "conv2d_backward: the Winograd kernel computes 3x3 stride-1 pad-1 convolutions only");
  Problem pb;
  pb.in = dy.data<float>();
  pb.n = s.n, pb.h = s.p, pb.w = s.q, pb.k = s.o, pb.cout = s.c;
  pb.out = dx.data<float>();
  pb.accumulate = write == GradWrite::Accumulate;
  run(pb, w.data<float>(), true);
}

}  // namespace pix::cpu
