// Batches for the normalizeEraseBatch tests: random u8 images with a random RandomErasing entry per
// sample, and the op's definition, normalizeErase run image by image.
import { loadEngine, type SampleErase } from '../../electron/host/engine/addon';
import { randInt, rng } from './random';

/** A random batch and a random erasing entry per sample (some null, some with 0 to 3 boxes, boxes of zero size). */
export function randomEraseCase(seed: number, n: number, h: number, w: number): { pixels: Uint8Array; erase: (SampleErase | null)[] } {
  const next = rng(seed);
  const pixels = Uint8Array.from({ length: n * h * w * 3 }, () => randInt(next, 0, 255));
  const modes = ['pixel', 'rand', 'const'] as const;
  const erase = Array.from({ length: n }, (_, i): SampleErase | null => {
    if (i % 4 === 3) return null;
    const boxes = Array.from({ length: randInt(next, 0, 3) }, () => {
      const height = randInt(next, 0, h);
      const width = randInt(next, 0, w);
      return { top: randInt(next, 0, h - height), left: randInt(next, 0, w - width), height, width };
    });
    return { boxes, mode: modes[(i + seed) % 3]!, seed: randInt(next, 0, 2 ** 32 - 1) * 2 ** 20 + i };
  });
  return { pixels, erase };
}

/** normalizeErase image by image: the definition of the batched op. */
export function perImage(pixels: Uint8Array, n: number, h: number, w: number, erase: (SampleErase | null)[] | undefined,
  stats: { mean?: [number, number, number]; std?: [number, number, number] } = {}): Float32Array {
  const out = new Float32Array(n * h * w * 3);
  const size = h * w * 3;
  for (let i = 0; i < n; i++) loadEngine().normalizeErase(pixels.subarray(i * size, (i + 1) * size), w, h, out, i * size, { ...stats, ...erase?.[i] });
  return out;
}

/** The bytes of a float array, for exact comparisons (NaN and -0 included). */
export function floatBytes(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}
