// Smoothing against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { debiasedEma, movingAverage, smooth } from '../../src/charts/smoothing';

describe('debiasedEma', () => {
  it('matches TensorBoard\'s bias-corrected average worked by hand', () => {
    // w = 0.5: last = 0.5, 1.25, 2.125; divided by 1 − 0.5ⁿ = 0.5, 0.75, 0.875.
    const out = debiasedEma([1, 2, 3], 0.5);
    expect(out[0]).toBeCloseTo(1, 12);
    expect(out[1]).toBeCloseTo(1.25 / 0.75, 12);
    expect(out[2]).toBeCloseTo(2.125 / 0.875, 12);
  });

  it('keeps a constant series constant from the first point (no pull towards 0)', () => {
    expect(debiasedEma([4, 4, 4, 4], 0.99).every((v) => Math.abs(v - 4) < 1e-9)).toBe(true);
  });

  it('passes non-finite values through without poisoning what follows', () => {
    const out = debiasedEma([2, NaN, 2], 0.9);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBeCloseTo(2, 12);
  });

  it('weight 0 is the raw series; weight 1 is refused', () => {
    expect(debiasedEma([3, 1, 2], 0)).toEqual([3, 1, 2]);
    expect(() => debiasedEma([1], 1)).toThrow(/\[0, 1\)/);
  });
});

describe('movingAverage', () => {
  it('averages the trailing window, shorter at the start, skipping NaN', () => {
    expect(movingAverage([1, 2, 3, NaN, 5], 2)).toEqual([1, 1.5, 2.5, NaN, 5]);
    expect(movingAverage([3, 6, 9, 12], 3)).toEqual([3, 4.5, 6, 9]);
  });

  it('refuses a window that is not a whole number ≥ 1', () => {
    expect(() => movingAverage([1], 0)).toThrow(/window/);
    expect(() => movingAverage([1], 2.5)).toThrow(/window/);
  });
});

describe('smooth', () => {
  it('returns a copy for none, so the raw series is never the smoothed array', () => {
    const raw = [1, 2];
    const out = smooth(raw, { kind: 'none' });
    expect(out).toEqual(raw);
    expect(out).not.toBe(raw);
  });
});
