// PiX on CUDA: forward and backward, NHWC and NCHW, f32 and bf16 (computed in f32 registers).
// Memory-bound by design: each kernel reads x once and writes its output once, so the op should
// run near copy bandwidth. The gate p (N,K) is tiny and always f32.
//
// NHWC maps consecutive threads to consecutive subsets of one pixel: when every subset is full and
// rows are 16-byte aligned (the PiX-ResNet case), a thread owns several whole subsets behind one
// 16-byte load ("wide" kernels); otherwise one subset, with a vector load when aligned. NCHW maps
// threads to consecutive pixels of one channel plane. Backward recomputes the pick/mix selection
// from x instead of saving indices.
#include "ops/cuda/launch.cuh"
#include "ops/pix.h"

namespace pix::cuda {
namespace {

constexpr int kRowsPerBlock = 32;       // NHWC backward: pixels whose gate gradients one block sums

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ZETA elements of one subset, loaded as one aligned vector (8 or 16 bytes for f32, 4 or 8 for bf16).
template <typename T, int ZETA>
struct alignas(sizeof(T) * ZETA) Subset {
  T v[ZETA];
};

// The selected value of one NHWC subset of `len` contiguous elements: max (pick, with the first
// argmax in *arg) or sum/zeta (mix). ZETA > 1 with `vector_ok` and a full subset uses one vector load.
template <typename T, int ZETA>
__device__ __forceinline__ float select_subset(const T* xs, int len, bool vector_ok, bool pick, float inv_zeta,
                                               int* arg) {
  if constexpr (ZETA > 1) {
    if (vector_ok && len == ZETA) {
      const Subset<T, ZETA> sub = *reinterpret_cast<const Subset<T, ZETA>*>(xs);
      float acc = to_float(sub.v[0]);
      int best = 0;
#pragma unroll
      for (int i = 1; i < ZETA; ++i) {
        const float v = to_float(sub.v[i]);
        if (pick) {
          if (v > acc) acc = v, best = i;
        } else {
          acc += v;
        }
      }
      *arg = best;
      return pick ? acc : acc * inv_zeta;
    }
  }
  float acc = to_float(xs[0]);
  int best = 0;
  for (int i = 1; i < len; ++i) {
    const float v = to_float(xs[i]);
    if (pick) {
      if (v > acc) acc = v, best = i;
    } else {
      acc += v;
    }
  }
  *arg = best;
  return pick ? acc : acc * inv_zeta;
}

// ---- NHWC -------------------------------------------------------------------------------------

// y (N,HW,K) from x (N,HW,C): one thread per (pixel, subset).
template <typename T, int ZETA>
__global__ void forward_nhwc(const T* __restrict__ x, const float* __restrict__ p, T* __restrict__ y, int64_t hw,
                             int64_t c, int64_t k, int zeta, float tau, float inv_zeta, bool vector_ok,
                             int64_t total) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = i / k, kk = i % k;
    const float gate = p[(row / hw) * k + kk];
    const int64_t c0 = kk * zeta;
    const int len = static_cast<int>(min64(zeta, c - c0));
    int arg;
    y[i] = from_float<T>(gate * select_subset<T, ZETA>(x + row * c + c0, len, vector_ok, gate < tau, inv_zeta, &arg));
  }
}

// dx (accumulated) and per-block partial gate gradients: block (bx, n) owns pixels
// [bx*kRowsPerBlock, ...) of image n; thread t owns subsets t, t+blockDim.x, ... Its gate sums go to
// partial[bx][n][subset] (add_gate_partials adds them up).
template <typename T, int ZETA>
__global__ void backward_nhwc(const T* __restrict__ x, const float* __restrict__ p, const T* __restrict__ dy,
                              T* __restrict__ dx, float* __restrict__ partial, int64_t hw, int64_t c, int64_t k,
                              int zeta, float tau, float inv_zeta, bool vector_ok) {
  const int64_t n = blockIdx.y;
  const int64_t q0 = blockIdx.x * (int64_t)kRowsPerBlock;
  const int64_t q1 = min64(hw, q0 + kRowsPerBlock);
  for (int64_t kk = threadIdx.x; kk < k; kk += blockDim.x) {
    const float gate = p[n * k + kk];
    const bool pick = gate < tau;
    float gate_grad = 0.f;
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t row = n * hw + q;
      const int64_t c0 = kk * zeta;
      const int len = static_cast<int>(min64(zeta, c - c0));
      int arg;
      const float selected = select_subset<T, ZETA>(x + row * c + c0, len, vector_ok, pick, inv_zeta, &arg);
      const float g = to_float(dy[row * k + kk]);
      gate_grad += g * selected;
      if (dx) {
        T* d = dx + row * c + c0;
        if (pick) {
          d[arg] = from_float<T>(to_float(d[arg]) + gate * g);
        } else {
          const float share = gate * g * inv_zeta;
          for (int i = 0; i < len; ++i) d[i] = from_float<T>(to_float(d[i]) + share);
        }
      }
    }
    if (partial) partial[(blockIdx.x * static_cast<int64_t>(gridDim.y) + n) * k + kk] = gate_grad;
  }
}

// ---- NHWC, wide: V whole subsets per thread, one 16-byte load of x ---------------------------------
// For the common case C = K * ZETA (every subset full) with 16-byte aligned rows, a thread owns V
// consecutive subsets, so x moves in 16-byte loads even for zeta 1 and 2, where the per-subset
// kernels above issue 2- or 4-byte loads (measured on the H100: ~800 and ~1150 GB/s there).

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

// y (N,HW,K): thread i owns subsets [i*V, i*V+V) of one pixel row.
template <typename T, int ZETA, int V>
__global__ void forward_nhwc_wide(const T* __restrict__ x, const float* __restrict__ p, T* __restrict__ y, int64_t hw,
                                  int64_t k, float tau, float inv_zeta, int64_t total) {
  const int64_t groups = k / V;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t row = i / groups, k0 = (i % groups) * V;
    const Pack<T, V * ZETA> in = *reinterpret_cast<const Pack<T, V * ZETA>*>(x + row * k * ZETA + k0 * ZETA);
    const float* gates = p + (row / hw) * k + k0;
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const float gate = gates[j];
      float acc = to_float(in.v[j * ZETA]);
#pragma unroll
      for (int e = 1; e < ZETA; ++e) {
        const float v = to_float(in.v[j * ZETA + e]);
        acc = gate < tau ? fmaxf(acc, v) : acc + v;
      }
      out.v[j] = from_float<T>(gate * (gate < tau ? acc : acc * inv_zeta));
    }
    *reinterpret_cast<Pack<T, V>*>(y + row * k + k0) = out;
  }
}

// dx (accumulated) and per-block partial gate gradients, V subsets per thread: block (bx, n) owns
// `rows` pixels of image n; thread t owns subset groups t, t + blockDim.x, ...
template <typename T, int ZETA, int V>
__global__ void backward_nhwc_wide(const T* __restrict__ x, const float* __restrict__ p, const T* __restrict__ dy,
                                   T* __restrict__ dx, float* __restrict__ partial, int64_t hw, int64_t k, float tau,
                                   float inv_zeta, int rows) {
  const int64_t n = blockIdx.y;
  const int64_t q0 = blockIdx.x * (int64_t)rows;
  const int64_t q1 = min64(hw, q0 + rows);
  const int64_t c = k * ZETA;
  for (int64_t g = threadIdx.x; g < k / V; g += blockDim.x) {
    const int64_t k0 = g * V;
    float gate[V], gate_grad[V];
#pragma unroll
    for (int j = 0; j < V; ++j) gate[j] = p[n * k + k0 + j], gate_grad[j] = 0.f;
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t row = n * hw + q;
      const Pack<T, V * ZETA> in = *reinterpret_cast<const Pack<T, V * ZETA>*>(x + row * c + k0 * ZETA);
      const Pack<T, V> grad = *reinterpret_cast<const Pack<T, V>*>(dy + row * k + k0);
      Pack<T, V * ZETA>* dst = dx ? reinterpret_cast<Pack<T, V * ZETA>*>(dx + row * c + k0 * ZETA) : nullptr;
      Pack<T, V * ZETA> d;
      if (dst) d = *dst;
#pragma unroll
      for (int j = 0; j < V; ++j) {
        const bool pick = gate[j] < tau;
        float acc = to_float(in.v[j * ZETA]);
        int arg = 0;
#pragma unroll
        for (int e = 1; e < ZETA; ++e) {
          const float v = to_float(in.v[j * ZETA + e]);
          if (pick) {
            if (v > acc) acc = v, arg = e;
          } else {
            acc += v;
          }
        }
        const float gj = to_float(grad.v[j]);
        gate_grad[j] += gj * (pick ? acc : acc * inv_zeta);
        if (dst) {
#pragma unroll
          for (int e = 0; e < ZETA; ++e) {
            const float share = pick ? (e == arg ? gate[j] * gj : 0.f) : gate[j] * gj * inv_zeta;
            d.v[j * ZETA + e] = from_float<T>(to_float(d.v[j * ZETA + e]) + share);
          }
        }
      }
      if (dst) *dst = d;
    }
    if (partial)
#pragma unroll
      for (int j = 0; j < V; ++j) partial[(blockIdx.x * static_cast<int64_t>(gridDim.y) + n) * k + k0 + j] = gate_grad[j];
  }
}

// dp[i] += the pixel blocks' partial sums for gate i, added in block order. Atomics would add them in
// whatever order blocks finish, and these small networks amplify that last bit until two runs of
// the same seed part ways within a few steps (measured on the CPU); a fixed order keeps runs, and a
// run and its resumption, identical.
__global__ void add_gate_partials(const float* __restrict__ partial, int64_t blocks, int64_t nk, float* __restrict__ dp) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < nk; i += (int64_t)gridDim.x * blockDim.x) {
    float sum = 0.f;
    for (int64_t b = 0; b < blocks; ++b) sum += partial[b * nk + i];
    dp[i] += sum;
  }
}

// ---- NCHW -------------------------------------------------------------------------------------

// y (N,K,HW) from x (N,C,HW): one thread per (image, subset, pixel), pixels fastest.
template <typename T>
__global__ void forward_nchw(const T* __restrict__ x, const float* __restrict__ p, T* __restrict__ y, int64_t hw,
                             int64_t c, int64_t k, int zeta, float tau, float inv_zeta, int64_t total) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t q = i % hw, nk = i / hw;
    const int64_t n = nk / k, kk = nk % k;
    const float gate = p[nk];
    const int64_t c0 = kk * zeta, c1 = min64(c0 + zeta, c);
    const T* plane = x + (n * c + c0) * hw + q;
    float acc = to_float(plane[0]);
    if (gate < tau) {
      for (int64_t ch = 1; ch < c1 - c0; ++ch) acc = fmaxf(acc, to_float(plane[ch * hw]));
      y[i] = from_float<T>(gate * acc);
    } else {
      for (int64_t ch = 1; ch < c1 - c0; ++ch) acc += to_float(plane[ch * hw]);
      y[i] = from_float<T>(gate * (acc * inv_zeta));
    }
  }
}

// One block per (image, subset): threads stride over pixels, write dx, and reduce dp in the block.
template <typename T>
__global__ void backward_nchw(const T* __restrict__ x, const float* __restrict__ p, const T* __restrict__ dy,
                              T* __restrict__ dx, float* __restrict__ dp, int64_t hw, int64_t c, int64_t k, int zeta,
                              float tau, float inv_zeta) {
  const int64_t nk = blockIdx.x;
  const int64_t n = nk / k, kk = nk % k;
  const float gate = p[nk];
  const bool pick = gate < tau;
  const int64_t c0 = kk * zeta, c1 = min64(c0 + zeta, c);
  const T* xs = x + (n * c + c0) * hw;
  T* dxs = dx ? dx + (n * c + c0) * hw : nullptr;
  const T* gs = dy + nk * hw;
  float gate_grad = 0.f;
  for (int64_t q = threadIdx.x; q < hw; q += blockDim.x) {
    const float g = to_float(gs[q]);
    float selected = to_float(xs[q]);
    int64_t arg = 0;
    for (int64_t ch = 1; ch < c1 - c0; ++ch) {
      const float v = to_float(xs[ch * hw + q]);
      if (pick) {
        if (v > selected) selected = v, arg = ch;
      } else {
        selected += v;
      }
    }
    if (!pick) selected *= inv_zeta;
    gate_grad += g * selected;
    if (dxs) {
      if (pick) {
        dxs[arg * hw + q] = from_float<T>(to_float(dxs[arg * hw + q]) + gate * g);
      } else {
        const float share = gate * g * inv_zeta;
        for (int64_t ch = 0; ch < c1 - c0; ++ch) dxs[ch * hw + q] = from_float<T>(to_float(dxs[ch * hw + q]) + share);
      }
    }
  }
  if (!dp) return;
  __shared__ float warp_sums[kThreads / 32];
  for (int offset = 16; offset > 0; offset /= 2) gate_grad += __shfl_down_sync(0xffffffffu, gate_grad, offset);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = gate_grad;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.f;
    for (int w = 0; w < kThreads / 32; ++w) total += warp_sums[w];
    dp[nk] += total;
  }
}


bool aligned_for_vectors(const void* base, int64_t c, int zeta, size_t elem) {
  return c % zeta == 0 && reinterpret_cast<uintptr_t>(base) % (elem * zeta) == 0;
}

// Subsets per thread of the wide kernels: one 16-byte load of x (0: the wide kernels do not apply).
template <typename T>
int wide_subsets(const PixShape& s, int zeta, const void* x, const void* y) {
  const int v = 16 / static_cast<int>(sizeof(T) * zeta);
  const bool fits = v >= 1 && 16 % (sizeof(T) * zeta) == 0 && s.c == s.k * zeta && s.k % v == 0 &&
                    reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(y) % (sizeof(T) * v) == 0;
  return fits ? v : 0;
}

// Pixels per block of the NHWC backward: the most (fewest partial sums) that still give a few waves
// of blocks, so 7x7 maps fill the GPU too.
constexpr int64_t kBackwardBlocksWanted = 4 * 132;  // four blocks per SM of an H100
int backward_rows(const PixShape& s) {
  for (int rows = kRowsPerBlock; rows > 4; rows /= 2)
    if (((s.hw + rows - 1) / rows) * s.n >= kBackwardBlocksWanted) return rows;
  return 4;
}

template <typename T>
bool launch_wide_forward(const T* x, const float* p, T* y, const PixParams& params, const PixShape& s, float inv_zeta,
                         cudaStream_t st) {
  const int v = wide_subsets<T>(s, params.zeta, x, y);
  const int64_t total = s.n * s.hw * (v ? s.k / v : 0);
  const int grid = grid_for(total);
  auto launch = [&](auto kernel) { kernel<<<grid, kThreads, 0, st>>>(x, p, y, s.hw, s.k, params.tau, inv_zeta, total); };
  if constexpr (sizeof(T) == 2) {
    if (v == 8 && params.zeta == 1) return launch(forward_nhwc_wide<T, 1, 8>), true;
    if (v == 4 && params.zeta == 2) return launch(forward_nhwc_wide<T, 2, 4>), true;
    if (v == 2 && params.zeta == 4) return launch(forward_nhwc_wide<T, 4, 2>), true;
  } else {
    if (v == 4 && params.zeta == 1) return launch(forward_nhwc_wide<T, 1, 4>), true;
    if (v == 2 && params.zeta == 2) return launch(forward_nhwc_wide<T, 2, 2>), true;
  }
  return false;
}

template <typename T>
using WideBackward = void (*)(const T*, const float*, const T*, T*, float*, int64_t, int64_t, float, float, int);

// The wide backward for v subsets per thread (wide_subsets) at this zeta; null where none is built.
template <typename T>
WideBackward<T> wide_backward_kernel(int v, int zeta) {
  if constexpr (sizeof(T) == 2) {
    if (v == 8 && zeta == 1) return backward_nhwc_wide<T, 1, 8>;
    if (v == 4 && zeta == 2) return backward_nhwc_wide<T, 2, 4>;
    if (v == 2 && zeta == 4) return backward_nhwc_wide<T, 4, 2>;
  } else {
    if (v == 4 && zeta == 1) return backward_nhwc_wide<T, 1, 4>;
    if (v == 2 && zeta == 2) return backward_nhwc_wide<T, 2, 2>;
  }
  return nullptr;
}

template <typename T>
void forward_typed(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s, Tensor& y,
                   cudaStream_t st) {
  const float inv_zeta = 1.f / params.zeta;
  const T* xs = x.data<T>();
  const float* ps = p.data<float>();
  T* ys = y.data<T>();
  const int64_t total = y.numel();
  const int grid = grid_for(total);
  if (params.layout == Layout::NCHW) {
    forward_nchw<T><<<grid, kThreads, 0, st>>>(xs, ps, ys, s.hw, s.c, s.k, params.zeta, params.tau, inv_zeta, total);
    return;
  }
  if (launch_wide_forward<T>(xs, ps, ys, params, s, inv_zeta, st)) return;
  const bool vec = aligned_for_vectors(xs, s.c, params.zeta, sizeof(T));
  auto launch = [&](auto kernel) {
    kernel<<<grid, kThreads, 0, st>>>(xs, ps, ys, s.hw, s.c, s.k, params.zeta, params.tau, inv_zeta, vec, total);
  };
  switch (params.zeta) {
    case 2: launch(forward_nhwc<T, 2>); break;
    case 4: launch(forward_nhwc<T, 4>); break;
    default: launch(forward_nhwc<T, 0>); break;  // zeta 1 needs no vector; any other zeta streams
  }
}

template <typename T>
void backward_typed(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params, const PixShape& s,
                    Tensor* dx, Tensor* dp, cudaStream_t st) {
  const float inv_zeta = 1.f / params.zeta;
  const T* xs = x.data<T>();
  const float* ps = p.data<float>();
  const T* gs = dy.data<T>();
  T* dxs = dx ? dx->data<T>() : nullptr;
  float* dps = dp ? dp->data<float>() : nullptr;
  if (params.layout == Layout::NCHW) {
    backward_nchw<T><<<static_cast<unsigned>(s.n * s.k), kThreads, 0, st>>>(xs, ps, gs, dxs, dps, s.hw, s.c, s.k,
                                                                           params.zeta, params.tau, inv_zeta);
    return;
  }
  int v = wide_subsets<T>(s, params.zeta, xs, gs);
  if (dxs && reinterpret_cast<uintptr_t>(dxs) % 16 != 0) v = 0;
  const WideBackward<T> wide = v ? wide_backward_kernel<T>(v, params.zeta) : nullptr;
  const int rows = wide ? backward_rows(s) : kRowsPerBlock;  // the plain kernel is built for kRowsPerBlock
  const dim3 grid(static_cast<unsigned>((s.hw + rows - 1) / rows), static_cast<unsigned>(s.n));
  Tensor partial;
  if (dps) partial = Tensor::empty({static_cast<int64_t>(grid.x), s.n * s.k}, DType::F32, x.device());
  float* partials = dps ? partial.data<float>() : nullptr;
  if (wide) {
    const int threads = static_cast<int>(std::min<int64_t>(kThreads, (s.k / v + 31) / 32 * 32));
    wide<<<grid, threads, 0, st>>>(xs, ps, gs, dxs, partials, s.hw, s.k, params.tau, inv_zeta, rows);
  } else {
    const bool vec = aligned_for_vectors(xs, s.c, params.zeta, sizeof(T));
    // Enough threads to cover the subsets once (in whole warps), at most one full block.
    const int threads = static_cast<int>(std::min<int64_t>(kThreads, (s.k + 31) / 32 * 32));
    auto launch = [&](auto kernel) {
      kernel<<<grid, threads, 0, st>>>(xs, ps, gs, dxs, partials, s.hw, s.c, s.k, params.zeta, params.tau, inv_zeta,
                                       vec);
    };
    switch (params.zeta) {
      case 2: launch(backward_nhwc<T, 2>); break;
      case 4: launch(backward_nhwc<T, 4>); break;
      default: launch(backward_nhwc<T, 0>); break;
    }
  }
  if (dps) add_gate_partials<<<grid_for(s.n * s.k), kThreads, 0, st>>>(partials, grid.x, s.n * s.k, dps);
}

}  // namespace

void pix_forward(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s, Tensor& y) {
  const int device = x.device().index;
  set_device(device);
  if (x.dtype() == DType::BF16)
    forward_typed<__nv_bfloat16>(x, p, params, s, y, stream(device));
  else
    forward_typed<float>(x, p, params, s, y, stream(device));
  PIX_CUDA_CHECK_LAUNCH("pix_forward");
}

void pix_backward(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params, const PixShape& s,
                  Tensor* dx, Tensor* dp) {
  PIX_CHECK(s.n <= 65535, "pix_backward: CUDA batch size is limited to 65535, got ", s.n);
  const int device = x.device().index;
  set_device(device);
  if (x.dtype() == DType::BF16)
    backward_typed<__nv_bfloat16>(x, p, dy, params, s, dx, dp, stream(device));
  else
    backward_typed<float>(x, p, dy, params, s, dx, dp, stream(device));
  PIX_CUDA_CHECK_LAUNCH("pix_backward");
}

}  // namespace pix::cuda
