// What the emulator's two halves share: the scheduler (kernels) reports launch errors through the
// runtime's per-thread last error, as the CUDA runtime does.
#pragma once

#include <cuda_runtime_api.h>

namespace pix_emu {

void set_last_error(cudaError_t error);

}  // namespace pix_emu
