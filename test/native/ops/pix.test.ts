// PiX on the CPU: the fast path and the reference loop against an independent float64 reference
// (test/helpers/pix_reference.ts), backward against central finite differences in f64, and every
// invalid argument answered by a JavaScript error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type DType, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import {
  pixBackwardReference, pixForwardReference, subsets, xShape, yShape, type PixCase,
} from '../../helpers/pix_reference';
import { cudaSkipReason } from '../../helpers/cuda';
import { randInt, randomValues, rng } from '../../helpers/random';

const engine = loadEngine();
const { Tensor } = engine;

function tensor(values: Float64Array, shape: number[], dtype: DType): Tensor {
  return dtype === 'f64' ? Tensor.fromArray(values, shape) : Tensor.fromArray(Float32Array.from(values), shape, dtype);
}

/** Gate values including some exactly at tau (which must mix) and some just below (pick). */
function gates(next: () => number, count: number, tau: number): Float64Array {
  const p = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const r = next();
    p[i] = r < 0.15 ? tau : r < 0.3 ? Math.fround(tau - 1e-6) : next();
  }
  return p;
}

// Hand-picked edges first, then random shapes.
const edgeCases: PixCase[] = [
  { n: 1, c: 1, h: 1, w: 1, zeta: 1, tau: 0.5, layout: 'nhwc' },
  { n: 1, c: 7, h: 1, w: 1, zeta: 4, tau: 0.5, layout: 'nhwc' },   // last subset of 3, still / 4
  { n: 2, c: 5, h: 3, w: 2, zeta: 2, tau: 0.5, layout: 'nchw' },
  { n: 1, c: 3, h: 2, w: 2, zeta: 8, tau: 0.5, layout: 'nhwc' },   // zeta > C: one short subset
  { n: 3, c: 12, h: 4, w: 4, zeta: 3, tau: 0.25, layout: 'nhwc' },
  { n: 2, c: 64, h: 9, w: 9, zeta: 4, tau: 0.5, layout: 'nhwc' },  // more pixels than one CPU task
  { n: 1, c: 6, h: 1, w: 1, zeta: 1, tau: 0.5, layout: 'nchw' },
  // Full subsets of 2 or 4 channels, at least four to a row: the f32 NHWC kernels' four-at-a-time
  // path, with and without ties (even cases draw them), pick and mix side by side in a row.
  { n: 2, c: 48, h: 3, w: 5, zeta: 4, tau: 0.5, layout: 'nhwc' },
  { n: 2, c: 40, h: 4, w: 3, zeta: 2, tau: 0.5, layout: 'nhwc' },
  { n: 1, c: 26, h: 2, w: 7, zeta: 2, tau: 0.5, layout: 'nhwc' },  // 13 subsets: 12 four at a time, 1 after
  { n: 3, c: 64, h: 2, w: 2, zeta: 4, tau: 0.5, layout: 'nhwc' },
];

function randomCases(seed: number, count: number): PixCase[] {
  const next = rng(seed);
  return Array.from({ length: count }, () => ({
    n: randInt(next, 1, 3),
    c: randInt(next, 1, 19),
    h: randInt(next, 1, 6),
    w: randInt(next, 1, 6),
    zeta: [1, 2, 3, 4, 5][randInt(next, 0, 4)]!,
    tau: 0.5,
    layout: next() < 0.5 ? 'nhwc' : 'nchw',
  }));
}

const cases = [...edgeCases, ...randomCases(7, 40)];

function label(s: PixCase): string {
  return `N${s.n} C${s.c} ${s.h}x${s.w} zeta${s.zeta} tau${s.tau} ${s.layout}`;
}

for (const dtype of ['f32', 'f64'] as const) {
  for (const kernel of ['fast', 'reference'] as const) {
    describe(`pix ${kernel} kernel, ${dtype}`, () => {
      const tolerance = dtype === 'f32' ? 1e-6 : 1e-12;
      cases.forEach((s, i) => {
        it(`matches the float64 reference: ${label(s)}`, () => {
          const next = rng(1000 + i);
          const k = subsets(s.c, s.zeta);
          const ties = i % 2 === 0;
          // Round inputs to the tested dtype first, so both sides see the same numbers.
          const round = (a: Float64Array) => (dtype === 'f32' ? Float64Array.from(Float32Array.from(a)) : a);
          const x = round(randomValues(next, s.n * s.c * s.h * s.w, ties));
          const p = round(gates(next, s.n * k, s.tau));
          const dy = round(randomValues(next, s.n * k * s.h * s.w));
          const params = { zeta: s.zeta, tau: s.tau, layout: s.layout, kernel };
          const xt = tensor(x, xShape(s), dtype);
          const pt = tensor(p, [s.n, k], dtype);

          const y = engine.pixForward(xt, pt, params);
          assert.deepEqual(y.shape, yShape(s));
          assert.equal(y.dtype, dtype);
          assert.ok(maxRelativeError(floats(y), pixForwardReference(s, x, p)) <= tolerance);

          const grads = engine.pixBackward(xt, pt, tensor(dy, yShape(s), dtype), params);
          const expected = pixBackwardReference(s, x, p, dy);
          assert.ok(maxRelativeError(floats(grads.dx!), expected.dx) <= tolerance, 'dx');
          assert.ok(maxRelativeError(floats(grads.dp!), expected.dp) <= tolerance * 10, 'dp');
        });
      });
    });
  }
}

describe('pix semantics', () => {
  it('picks below tau and mixes at tau exactly', () => {
    // One pixel, C = 4, zeta = 2: subset 0 = [1, 3], subset 1 = [5, -1].
    const x = Tensor.fromArray(new Float32Array([1, 3, 5, -1]), [1, 1, 1, 4]);
    const p = Tensor.fromArray(new Float32Array([Math.fround(0.5 - 1e-7), 0.5]), [1, 2]);
    const y = floats(engine.pixForward(x, p, { zeta: 2 }));
    assert.ok(Math.abs(y[0]! - Math.fround(0.5 - 1e-7) * 3) < 1e-6);
    assert.equal(y[1], 0.5 * (5 - 1) / 2);
  });

  it('sends the pick gradient to the first of tied maxima', () => {
    const x = Tensor.fromArray(new Float32Array([2, 7, 7, 1]), [1, 1, 1, 4]);
    const p = Tensor.fromArray(new Float32Array([0.25]), [1, 1]);
    const dy = Tensor.fromArray(new Float32Array([2]), [1, 1, 1, 1]);
    const { dx, dp } = engine.pixBackward(x, p, dy, { zeta: 4 });
    assert.deepEqual(Array.from(floats(dx!)), [0, 0.5, 0, 0]);
    assert.deepEqual(Array.from(floats(dp!)), [14]);
  });

  it('divides a short last subset by zeta, not by its length', () => {
    const x = Tensor.fromArray(new Float32Array([1, 1, 1, 1, 6]), [1, 5, 1, 1]);
    const p = Tensor.fromArray(new Float32Array([1, 1]), [1, 2]);
    const y = floats(engine.pixForward(x, p, { zeta: 4, layout: 'nchw' }));
    assert.deepEqual(Array.from(y), [1, 1.5]);
  });

  it('is y = p * x for zeta = 1', () => {
    const x = Tensor.fromArray(new Float32Array([1, -2, 3, 4, 5, -6]), [2, 1, 1, 3]);
    const p = Tensor.fromArray(new Float32Array([0.1, 0.9, 0.5, 0.2, 0.7, 0.3]), [2, 3]);
    const y = floats(engine.pixForward(x, p, { zeta: 1 }));
    const expected = [0.1, -1.8, 1.5, 0.8, 3.5, -1.8];
    y.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6));
  });

  it('accepts the gate as (N,K,1,1), as the 1x1 gate convolution produces it', () => {
    const x = Tensor.fromArray(new Float32Array([1, 2, 3, 4]), [1, 1, 2, 2]);
    const p = Tensor.fromArray(new Float32Array([0.8]), [1, 1, 1, 1]);
    assert.deepEqual(Array.from(floats(engine.pixForward(x, p, { zeta: 1, layout: 'nchw' }))), [
      Math.fround(0.8) * 1, Math.fround(0.8) * 2, Math.fround(0.8) * 3, Math.fround(0.8) * 4,
    ].map((v) => Math.fround(v)));
  });
});

describe('pix backward against finite differences (f64)', () => {
  // Central differences of L = sum(y * r). Inputs have no ties and gates stay away from tau, so
  // L is smooth around the point (the pick/mix decision and the argmax do not flip).
  const fdCases: PixCase[] = [
    { n: 2, c: 7, h: 2, w: 3, zeta: 3, tau: 0.5, layout: 'nhwc' },
    { n: 1, c: 8, h: 3, w: 2, zeta: 4, tau: 0.5, layout: 'nchw' },
    { n: 2, c: 3, h: 1, w: 1, zeta: 1, tau: 0.5, layout: 'nhwc' },
  ];
  fdCases.forEach((s, i) => {
    it(label(s), () => {
      const next = rng(500 + i);
      const k = subsets(s.c, s.zeta);
      const x = randomValues(next, s.n * s.c * s.h * s.w);
      const p = Float64Array.from({ length: s.n * k }, () => (next() < 0.5 ? 0.1 + 0.3 * next() : 0.6 + 0.3 * next()));
      const r = randomValues(next, s.n * k * s.h * s.w);
      const params = { zeta: s.zeta, tau: s.tau, layout: s.layout };
      const loss = (xv: Float64Array, pv: Float64Array) => {
        const y = floats(engine.pixForward(Tensor.fromArray(xv, xShape(s)), Tensor.fromArray(pv, [s.n, k]), params));
        return y.reduce((acc, v, j) => acc + v * r[j]!, 0);
      };
      const { dx, dp } = engine.pixBackward(
        Tensor.fromArray(x, xShape(s)), Tensor.fromArray(p, [s.n, k]), Tensor.fromArray(r, yShape(s)), params);
      const h = 1e-6;
      const numeric = (values: Float64Array, other: Float64Array, isX: boolean) =>
        values.map((v, j) => {
          const plus = Float64Array.from(values);
          const minus = Float64Array.from(values);
          plus[j] = v + h;
          minus[j] = v - h;
          const lp = isX ? loss(plus, other) : loss(other, plus);
          const lm = isX ? loss(minus, other) : loss(other, minus);
          return (lp - lm) / (2 * h);
        });
      assert.ok(maxRelativeError(floats(dx!), numeric(x, p, true)) < 1e-7, 'dx');
      assert.ok(maxRelativeError(floats(dp!), numeric(p, x, false)) < 1e-7, 'dp');
    });
  });
});

describe('pix argument errors', () => {
  const x = Tensor.fromArray(new Float32Array(2 * 3 * 3 * 8), [2, 3, 3, 8]);
  const p = Tensor.fromArray(new Float32Array(2 * 2), [2, 2]);

  it('names a gate of the wrong shape', () => {
    assert.throws(() => engine.pixForward(x, Tensor.fromArray(new Float32Array(6), [2, 3]), { zeta: 4 }),
      /gate p has shape \(2,3\) but x \(2,3,3,8\) with zeta 4 needs \(2,2\)/);
  });
  it('rejects zeta <= 0 and non-integer zeta', () => {
    for (const zeta of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => engine.pixForward(x, p, { zeta }), /zeta must be a positive integer/);
    }
  });
  it('rejects wrong dtypes', () => {
    const xi = Tensor.fromArray(new BigInt64Array(2 * 3 * 3 * 8), [2, 3, 3, 8]);
    assert.throws(() => engine.pixForward(xi, p, { zeta: 4 }), /on the CPU x must be f32 or f64, got i64/);
    assert.throws(() => engine.pixForward(x.cast('bf16'), p, { zeta: 4 }), /on the CPU x must be f32 or f64, got bf16/);
    assert.throws(() => engine.pixForward(x, p.cast('f64'), { zeta: 4 }), /gate p must be f32 for f32 input, got f64/);
  });
  it('rejects non-tensors with a TypeError', () => {
    assert.throws(() => engine.pixForward({} as Tensor, p, { zeta: 4 }), { name: 'TypeError', message: /'x' must be a Tensor/ });
    assert.throws(() => engine.pixForward(x, new Float32Array(4) as unknown as Tensor, { zeta: 4 }), TypeError);
    assert.throws(() => engine.pixForward(x, p, undefined as unknown as { zeta: number }), TypeError);
    assert.throws(() => engine.pixForward(x, p, { zeta: '4' as unknown as number }), TypeError);
  });
  it('rejects wrong ranks, layouts and gradient shapes', () => {
    assert.throws(() => engine.pixForward(x.reshape([18, 8]), p, { zeta: 4 }), /x must be 4-D/);
    assert.throws(() => engine.pixForward(x, p, { zeta: 4, layout: 'nwhc' as 'nhwc' }), /unknown layout 'nwhc'/);
    assert.throws(() => engine.pixBackward(x, p, x, { zeta: 4 }), /dy must have shape \(2,3,3,2\)/);
    assert.throws(() => engine.pixForward(x, p, { zeta: 4, kernel: 'slow' as 'fast' }), /kernel must be 'fast' or 'reference'/);
  });
  it('rejects a disposed tensor', () => {
    const gone = Tensor.fromArray(new Float32Array(4), [1, 1, 1, 4]);
    gone.dispose();
    assert.throws(() => engine.pixForward(gone, p, { zeta: 4 }), /disposed/);
  });
  it('rejects a gate on another device', { skip: cudaSkipReason() }, () => {
    assert.throws(() => engine.pixForward(x, p.to('cuda:0'), { zeta: 4 }), /gate p is on cuda:0 but x is on cpu/);
  });
});
