// What every CUDA op file shares: launch sizes for grid-stride loops, f32/bf16 load and store,
// a per-op dtype switch, and deterministic block reductions. Device code only for .cu files; the
// ops' host entry points stay in their own headers (ops/<op>.h).
// Not here: anything op-specific, and no tuning: these are the plain, obviously-correct building
// blocks the first CUDA versions of the ops are written with.
#pragma once

#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "core/cuda/check.h"
#include "core/tensor.h"

namespace pix::cuda {

constexpr int kThreads = 256;           // elementwise kernels: a full block, few registers
constexpr int64_t kMaxBlocks = 65535 * 8;  // grid-stride loops cover the rest

// Blocks for a grid-stride loop over `total` items (at least 1, so a launch is always valid).
inline int grid_for(int64_t total) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((total + kThreads - 1) / kThreads, kMaxBlocks)));
}

// for (i in [0, total)) over the whole grid.
#define PIX_GRID_STRIDE(i, total)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (total); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T from_float(float v);
template <>
__device__ __forceinline__ float from_float<float>(float v) { return v; }
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// N consecutive values of T moved by one aligned load or store: Pack<T, kVector<T>> is 16 bytes
// (8 bf16 or 4 f32), the widest single access; Pack<T, 1> is a plain element.
template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};
template <typename T>
constexpr int kVector = static_cast<int>(16 / sizeof(T));

// The vector width an elementwise kernel over NHWC rows of c channels may use: kVector<T> when a
// vector never straddles two rows (c a multiple of it) and every pointer is 16-byte aligned (nulls
// pass), else 1. Kernels are templated on the width, so the scalar loop is the same code with V = 1.
template <typename T>
int vector_width(int64_t c, std::initializer_list<const void*> pointers) {
  if (c % kVector<T> != 0) return 1;
  for (const void* p : pointers)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return 1;
  return kVector<T>;
}

// Calls fn(std::integral_constant<int, V>{}) with V = width (kVector<T> or 1), for a kernel
// templated on its vector width.
template <typename T, typename Fn>
void with_vector_width(int width, Fn&& fn) {
  if (width == kVector<T>) {
    fn(std::integral_constant<int, kVector<T>>{});
  } else {
    fn(std::integral_constant<int, 1>{});
  }
}

// Calls fn(T{}) with T the device type of an activation dtype (f32 or bf16); anything else is
// refused naming the op. The dispatchers check dtypes first, so this is a last guard.
template <typename Fn>
void with_activation_type(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::F32) {
    fn(float{});
  } else if (dtype == DType::BF16) {
    fn(__nv_bfloat16{});
  } else {
    throw Error(concat(op, ": CUDA computes in f32 or bf16, not ", dtype_name(dtype)));
  }
}

// Sum of one value per thread over a block of kThreads threads; thread 0 gets the total. The
// order is fixed (a tree over shared memory), so the result does not depend on scheduling.
template <typename Acc>
__device__ Acc block_sum(Acc value) {
  __shared__ Acc partial[kThreads];
  partial[threadIdx.x] = value;
  __syncthreads();
  for (int width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
    __syncthreads();
  }
  const Acc total = partial[0];
  __syncthreads();  // the buffer may be reused by a following call
  return total;
}

// Per-channel sums over the rows of a 2-D block (threadIdx.x: a column of channels, threadIdx.y: a
// lane of rows, blockDim.x * blockDim.y <= kThreads): each thread holds N sums for its column; after
// the call, the threads of row lane 0 hold their column's totals, lanes added in order 0, 1, ...
// (deterministic). Every thread of the block must call it.
template <int N>
__device__ void sum_row_lanes(double (&acc)[N]) {
  __shared__ double lanes[kThreads][N];
  const int lane = threadIdx.y * blockDim.x + threadIdx.x;
  __syncthreads();  // a previous call's readers are done with the buffer
#pragma unroll
  for (int j = 0; j < N; ++j) lanes[lane][j] = acc[j];
  __syncthreads();
  if (threadIdx.y != 0) return;
  for (unsigned r = 1; r < blockDim.y; ++r) {
#pragma unroll
    for (int j = 0; j < N; ++j) acc[j] += lanes[r * blockDim.x + threadIdx.x][j];
  }
}

}  // namespace pix::cuda
