// Per-sample randomness keyed by (seed, epoch, index): an augmentation draws the same numbers
// whatever the worker count or the order samples are decoded in, so a run is reproducible.
export type Random = () => number;

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A uniform [0, 1) stream (mulberry32) for one (seed, epoch, index). */
export function sampleRandom(seed: number, epoch: number, index: number): Random {
  return mulberry32(mix32(mix32(mix32(seed >>> 0) ^ (epoch >>> 0)) ^ (index >>> 0)));
}

/** mulberry32: a small, fast 32-bit generator, uniform [0, 1). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A permutation of [0, n) (Fisher-Yates), the same for the same (seed, epoch). */
export function shuffledIndices(n: number, seed: number, epoch: number): Uint32Array {
  const random = sampleRandom(seed, epoch, 0xffffffff);
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
