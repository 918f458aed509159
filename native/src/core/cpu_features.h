// What the host CPU offers the engine, detected at run time: the SIMD level that CPU kernels
// dispatch on, and extra features (bf16 dot products, AMX) named for `pix info`.
#pragma once

#include <string>
#include <vector>

namespace pix {

enum class SimdLevel { Portable, AVX2, AVX512 };

struct CpuFeatures {
  SimdLevel simd = SimdLevel::Portable;
  std::vector<std::string> extras;  // e.g. "fma", "avx512_bf16", "avx512_vnni", "amx_bf16"
};

const CpuFeatures& cpu_features();  // detected once
const char* simd_level_name(SimdLevel level);  // "avx512", "avx2", "portable"

}  // namespace pix
