// Seeded randomness for tests: the same seed gives the same cases on every machine.
import { mulberry32 } from '../../electron/host/data/sample_random';

/** The host's mulberry32 stream. */
export const rng = mulberry32;

export function randInt(next: () => number, lo: number, hi: number): number {
  return lo + Math.floor(next() * (hi - lo + 1));
}

/** Uniform values in [-1, 1); with `ties`, drawn from a few values so subsets hold equal maxima. */
export function randomValues(next: () => number, count: number, ties = false): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = ties ? randInt(next, -2, 2) / 2 : next() * 2 - 1;
  return out;
}
