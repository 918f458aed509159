// torchvision's ColorJitter draw (electron/host/data/augment/color_jitter.ts): brightness, contrast
// and saturation once each in a uniformly random order, each factor uniform in [max(0, 1 - j), 1 + j],
// nothing at j = 0. Seeded, so never flaky; the tolerances are over four standard errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drawColorJitter } from '../../../../electron/host/data/augment/color_jitter';
import { sampleRandom } from '../../../../electron/host/data/sample_random';

const DRAWS = 30_000;

describe('drawColorJitter', () => {
  it('draws each adjustment once, in every order about equally often', () => {
    const random = sampleRandom(11, 0, 0);
    const orders = new Map<string, number>();
    for (let i = 0; i < DRAWS; i++) {
      const ops = drawColorJitter(0.4, random);
      const order = ops.map((o) => o.op).join(',');
      assert.deepEqual([...ops.map((o) => o.op)].sort(), ['brightness', 'color', 'contrast']);
      orders.set(order, (orders.get(order) ?? 0) + 1);
    }
    assert.equal(orders.size, 6);
    // Each order 1/6 of the draws; a standard error of about 0.0022 at this count.
    for (const [order, count] of orders) assert.ok(Math.abs(count / DRAWS - 1 / 6) < 0.01, `${order}: ${count / DRAWS}`);
  });

  it('draws factors uniform in [1 - j, 1 + j], clipped at 0 from below', () => {
    for (const [j, lo, hi] of [[0.4, 0.6, 1.4], [1.5, 0, 2.5]] as const) {
      const random = sampleRandom(5, 1, 2);
      const factors = Array.from({ length: DRAWS }, () => drawColorJitter(j, random).map((o) => ('factor' in o ? o.factor : NaN))).flat();
      assert.ok(factors.every((f) => f >= lo && f <= hi), `a factor outside [${lo}, ${hi}]`);
      const mean = factors.reduce((a, b) => a + b, 0) / factors.length;
      const sd = (hi - lo) / Math.sqrt(12) / Math.sqrt(factors.length);
      assert.ok(Math.abs(mean - (lo + hi) / 2) < 5 * sd, `mean ${mean} for j ${j}`);
    }
  });

  it('does nothing at 0 and refuses a negative or non-finite j', () => {
    assert.deepEqual(drawColorJitter(0, sampleRandom(1, 0, 0)), []);
    assert.throws(() => drawColorJitter(-0.1, sampleRandom(1, 0, 0)), /--color_jitter must be a number >= 0, got -0.1/);
    assert.throws(() => drawColorJitter(Number.NaN, sampleRandom(1, 0, 0)), /--color_jitter must be a number >= 0/);
  });
});
