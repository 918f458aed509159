// Seeded randomness for tests: the same seed gives the same cases on every machine.
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(next: () => number, lo: number, hi: number): number {
  return lo + Math.floor(next() * (hi - lo + 1));
}

/** Uniform values in [-1, 1); with `ties`, drawn from a few values so subsets hold equal maxima. */
export function randomValues(next: () => number, count: number, ties = false): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = ties ? randInt(next, -2, 2) / 2 : next() * 2 - 1;
  return out;
}
