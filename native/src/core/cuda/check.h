// Error checking for CUDA code: every runtime call and every kernel launch goes through these, and
// a failure becomes a pix::Error naming the call, the CUDA error and the source line.
#pragma once

#include <cuda_runtime.h>

#include "core/error.h"

#define PIX_CUDA_CHECK(call)                                                                       \
  do {                                                                                              \
    cudaError_t pix_status_ = (call);                                                              \
    if (pix_status_ != cudaSuccess)                                                                \
      throw ::pix::Error(::pix::concat("CUDA error in ", #call, ": ", cudaGetErrorString(pix_status_), \
                                       " (", __FILE__, ":", __LINE__, ")"));                        \
  } while (0)

// After a <<<...>>> launch: reports bad launch configurations at once (execution errors surface
// at the next synchronising call).
#define PIX_CUDA_CHECK_LAUNCH(name)                                                                   \
  do {                                                                                                 \
    cudaError_t pix_status_ = cudaGetLastError();                                                     \
    if (pix_status_ != cudaSuccess)                                                                   \
      throw ::pix::Error(::pix::concat("CUDA launch of ", name, " failed: ", cudaGetErrorString(pix_status_))); \
  } while (0)

namespace pix::cuda {

// The stream all engine work on `device` is ordered on; created on first use, non-blocking.
cudaStream_t stream(int device);

// Makes `device` current for the calling thread.
void set_device(int device);

}  // namespace pix::cuda
