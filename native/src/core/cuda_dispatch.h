// The single switch between builds with and without the CUDA backend. Op dispatchers wrap each
// CUDA launcher call in PIX_CUDA_CALL, so a CPU-only build still links and a CUDA tensor there
// meets a clear error instead of a missing symbol. Besides this header, only the build report
// (binding/js_info.cc) tests PIX_HAVE_CUDA.
#pragma once

#include "build_config.h"
#include "core/error.h"

#if PIX_HAVE_CUDA
#define PIX_CUDA_CALL(...) __VA_ARGS__
#else
#define PIX_CUDA_CALL(...) \
  throw ::pix::Error("this build of the PiX engine has no CUDA backend: " PIX_CUDA_ABSENCE "; use device 'cpu'")
#endif
