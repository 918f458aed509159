#include "core/cpu_features.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define PIX_X86 1
#endif

namespace pix {
namespace {

#if PIX_X86
bool leaf7_bit(unsigned subleaf, int reg, int bit) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, subleaf, &eax, &ebx, &ecx, &edx)) return false;
  const unsigned regs[4] = {eax, ebx, ecx, edx};
  return (regs[reg] >> bit) & 1u;
}
#endif

// PIX_SIMD=avx2 or portable runs the narrower kernels on a wider CPU (the tests check every level
// on one machine); it never raises the level above what the CPU has. Other values are ignored,
// with a warning, rather than failing the first kernel that asks.
void cap_from_environment(CpuFeatures& features) {
  const char* wanted = std::getenv("PIX_SIMD");
  if (wanted == nullptr || *wanted == '\0') return;
  SimdLevel level;
  if (std::strcmp(wanted, "portable") == 0) level = SimdLevel::Portable;
  else if (std::strcmp(wanted, "avx2") == 0) level = SimdLevel::AVX2;
  else if (std::strcmp(wanted, "avx512") == 0) level = SimdLevel::AVX512;
  else {
    std::fprintf(stderr, "pix: PIX_SIMD='%s' is not portable, avx2 or avx512; using %s\n", wanted,
                 simd_level_name(features.simd));
    return;
  }
  if (static_cast<int>(level) < static_cast<int>(features.simd)) features.simd = level;
}

CpuFeatures detect() {
  CpuFeatures features;
#if PIX_X86
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // AVX-512 kernels use the F, BW, DQ and VL subsets (Skylake-SP and later, Zen 4 and later).
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  features.simd = avx512 ? SimdLevel::AVX512 : avx2 ? SimdLevel::AVX2 : SimdLevel::Portable;
  if (__builtin_cpu_supports("fma")) features.extras.push_back("fma");
  if (__builtin_cpu_supports("avx512vnni")) features.extras.push_back("avx512_vnni");
  if (leaf7_bit(1, 0, 5)) features.extras.push_back("avx512_bf16");  // CPUID.(7,1):EAX[5]
  if (leaf7_bit(0, 3, 22)) features.extras.push_back("amx_bf16");     // CPUID.(7,0):EDX[22]
#endif
  cap_from_environment(features);
  return features;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::AVX512: return "avx512";
    case SimdLevel::AVX2: return "avx2";
    case SimdLevel::Portable: return "portable";
  }
  return "portable";
}

}  // namespace pix
