// Why a build of the engine has no CUDA backend, in words that are true. The engine says "nvcc was
// not found at build time" whenever CUDA is not compiled in, but a build made with PIX_CUDA=0 (CUDA
// turned off on purpose, or the CPU-only rebuild scripts/build-native.mjs makes after a failed CUDA
// build) looks the same from inside, and native/ records no more. The CMake cache of the build that
// made the addon does: cmake-js writes the addon to <build>/Release/ and the cache to <build>/, and
// its PIX_CUDA entry says whether CUDA was asked for. Without a cache (an addon from elsewhere, e.g.
// PIX_ENGINE_PATH) the words cover every case.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const CUDA_TURNED_OFF =
  'this build has no CUDA backend: it was built with CUDA turned off (PIX_CUDA=0, or the CPU-only build made after a failed CUDA build)';
export const NVCC_NOT_FOUND =
  'this build has no CUDA backend: no CUDA compiler was found when it was built (put nvcc on the PATH or set CUDA_HOME, then npm run build:native)';
export const NO_CUDA_BUILD =
  'this build has no CUDA backend (it was built with PIX_CUDA=0, without nvcc, or after a failed CUDA build)';

/** The CMake cache beside the addon's build, or null when there is none to read. */
export function buildCacheOf(addonPath: string): string | null {
  try {
    return readFileSync(join(dirname(dirname(addonPath)), 'CMakeCache.txt'), 'utf8');
  } catch {
    return null;
  }
}

/** CMake's false constants (OFF, 0, NO, FALSE, N, IGNORE, NOTFOUND, ''); anything else is true. */
function cmakeFalse(value: string): boolean {
  return /^(off|0|no|false|n|ignore|notfound|.*-notfound)?$/i.test(value.trim());
}

/** Why CUDA is not compiled in, read from the build's CMake cache (null: none). */
export function cudaAbsenceReason(cache: string | null): string {
  const entry = cache === null ? null : /^PIX_CUDA:[A-Z]+=(.*)$/m.exec(cache);
  if (!entry) return NO_CUDA_BUILD;
  if (cmakeFalse(entry[1]!)) return CUDA_TURNED_OFF;
  // Asked for: CMake found no compiler, or found nvcc but not the toolkit (CMakeLists.txt needs both).
  const compiler = /^CMAKE_CUDA_COMPILER:[A-Z]+=(.*)$/m.exec(cache!)?.[1]?.trim();
  if (compiler && !cmakeFalse(compiler)) {
    return `this build has no CUDA backend: CMake found nvcc (${compiler}) when it was built, but not the CUDA toolkit's libraries (set CUDA_HOME, then npm run build:native)`;
  }
  return NVCC_NOT_FOUND;
}
