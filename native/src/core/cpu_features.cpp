#include "core/cpu_features.h"

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
