// Matrix products on a CUDA device, for convolution and linear: the row-major contract of
// ops/gemm.h (C (M,N) = alpha * op(A) op(B) + beta * C, beta = 0 never reads C), with A and B
// of one dtype (f32 or bf16) and C f32 or bf16; products are summed in f32.
// Plain C++ (no CUDA headers), so dispatchers and other .cu files can call it.
// Not here: cuBLAS (the fast path goes behind this same call when PIX_HAVE_CUBLAS), batched or
// strided-batched products.
#pragma once

#include "core/dtype.h"
#include "ops/gemm.h"

namespace pix::cuda {

// Runs on `device`'s engine stream. Pointers are device pointers of the given dtypes.
void gemm(int device, const GemmParams& params, DType ab_dtype, const void* a, const void* b, DType c_dtype, void* c);

}  // namespace pix::cuda
