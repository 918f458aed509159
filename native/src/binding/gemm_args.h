// The arguments both matrix-product bindings share (gemm on the CPU, js_gemm.cc; cudaGemm,
// js_cuda_gemm.cc): { transA, transB, alpha = 1, beta = 0, m, n, k } read into GemmParams and
// checked against the 2-D tensors a, b and c, row-major, each tensor's row length its leading
// dimension. m, n, k: all three or none; without them they come from the shapes, which must then
// match exactly; with them each matrix sits in the top-left corner of its tensor.
#pragma once

#include <napi.h>

#include "core/tensor.h"
#include "ops/gemm.h"

namespace pix::binding {

GemmParams gemm_params(const Napi::Object& options, const Tensor& a, const Tensor& b, const Tensor& c, const char* fn);

// A stored matrix of rows x cols: exactly that shape (`exact`), or at least that many rows.
void check_stored(const Tensor& t, const char* name, const char* layout, int64_t rows, int64_t cols, bool exact,
                  const char* fn);

bool share_memory(const Tensor& x, const Tensor& y);

}  // namespace pix::binding
