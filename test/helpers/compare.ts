// Error measures for comparing engine output with references.
import type { Tensor } from '../../electron/host/engine/addon';

export function floats(t: Tensor): Float64Array {
  const data = t.toArray();
  if (data instanceof BigInt64Array) throw new Error('floats(): tensor is i64');
  return Float64Array.from(data);
}

/** max |a - b| / max |b|: the worst element error relative to the reference's scale. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    if (Number.isNaN(diff)) return Infinity;
    worst = Math.max(worst, diff);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? worst : worst / scale;
}

/** Where two 8-bit HWC RGB images first differ, for an assertion's message; 'identical' if nowhere. */
export function firstPixelDifference(actual: Uint8Array, expected: Uint8Array, width: number): string {
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      const pixel = Math.floor(i / 3);
      return `first difference at (y ${Math.floor(pixel / width)}, x ${pixel % width}, c ${i % 3}): ${actual[i]} vs ${expected[i]}`;
    }
  }
  return 'identical';
}
