// The CPU kernels' SIMD levels, narrowest first, and those this machine runs: tests pick the
// levels to cover from here (a level above the host's cannot run on it).
import { loadEngine } from '../../electron/host/engine/addon';

export const SIMD_LEVELS = ['portable', 'avx2', 'avx512'] as const;
export type SimdLevel = (typeof SIMD_LEVELS)[number];

/** The widest level this CPU runs, as the engine reports it. */
export const hostSimd = loadEngine().engineInfo().backends.cpu.simd as SimdLevel;

/** Every level up to and including the host's. */
export const hostLevels: readonly SimdLevel[] = SIMD_LEVELS.slice(0, SIMD_LEVELS.indexOf(hostSimd) + 1);
