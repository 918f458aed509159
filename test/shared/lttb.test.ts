// LTTB: keeps everything when it fits, keeps the ends and exactly maxPoints otherwise, picks a
// spike a stride would miss, picks the largest triangle in each bucket (checked against a brute
// force on random data), and refuses a nonsense point budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lttbIndices } from '../../shared/lttb';
import { rng as mulberry32 } from '../helpers/random';

/** The textbook algorithm written plainly, for comparison. */
function reference(x: number[], y: number[], threshold: number): number[] {
  const n = x.length;
  const every = (n - 2) / (threshold - 2);
  const out = [0];
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    const rangeStart = Math.floor((i + 1) * every) + 1;
    const rangeEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0, avgY = 0;
    for (let j = rangeStart; j < rangeEnd; j++) { avgX += x[j]!; avgY += y[j]!; }
    avgX /= rangeEnd - rangeStart; avgY /= rangeEnd - rangeStart;
    const from = Math.floor(i * every) + 1;
    const to = Math.floor((i + 1) * every) + 1;
    let maxArea = -1, chosen = from;
    for (let j = from; j < to; j++) {
      const area = Math.abs((x[a]! - avgX) * (y[j]! - y[a]!) - (x[a]! - x[j]!) * (avgY - y[a]!)) / 2;
      if (area > maxArea) { maxArea = area; chosen = j; }
    }
    out.push(chosen);
    a = chosen;
  }
  out.push(n - 1);
  return out;
}

describe('lttbIndices', () => {
  it('keeps every point when they fit', () => {
    assert.deepEqual(lttbIndices([0, 1, 2], [5, 6, 7], 10), [0, 1, 2]);
    assert.deepEqual(lttbIndices([0, 1, 2, 3, 4], [0, 0, 0, 0, 0], 3, 1, 3), [1, 2]);
    assert.deepEqual(lttbIndices([], [], 5), []);
  });

  it('keeps the first and last point and exactly maxPoints, ascending', () => {
    const n = 10_001;
    const x = Array.from({ length: n }, (_, i) => i);
    const y = x.map((i) => Math.sin(i / 100));
    const kept = lttbIndices(x, y, 500);
    assert.equal(kept.length, 500);
    assert.equal(kept[0], 0);
    assert.equal(kept.at(-1), n - 1);
    for (let i = 1; i < kept.length; i++) assert.ok(kept[i]! > kept[i - 1]!);
  });

  it('keeps a one-point spike that striding would drop', () => {
    const x = Array.from({ length: 1000 }, (_, i) => i);
    const y = x.map((i) => (i === 503 ? 100 : 0));
    assert.ok(lttbIndices(x, y, 20).includes(503));
  });

  it('chooses what the textbook algorithm chooses', () => {
    const random = mulberry32(7);
    for (const [n, threshold] of [[100, 10], [1000, 37], [257, 256]] as const) {
      const x = Array.from({ length: n }, (_, i) => i * 0.5);
      const y = x.map(() => random() * 10);
      assert.deepEqual(lttbIndices(x, y, threshold), reference(x, y, threshold));
    }
  });

  it('works on a window of the arrays (start, end) as on a copy of it', () => {
    const random = mulberry32(3);
    const x = Array.from({ length: 600 }, (_, i) => i);
    const y = x.map(() => random());
    const windowed = lttbIndices(x, y, 50, 100, 500).map((i) => i - 100);
    assert.deepEqual(windowed, lttbIndices(x.slice(100, 500), y.slice(100, 500), 50));
  });

  it('refuses a point budget below 2', () => {
    assert.throws(() => lttbIndices([1, 2, 3], [1, 2, 3], 1), /maxPoints must be an integer >= 2/);
  });
});
