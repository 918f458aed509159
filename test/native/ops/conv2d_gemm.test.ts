// conv2d's GEMM path on the CPU (ops/cpu/conv2d.cpp, algorithm 'gemm'): the forward's windows
// gathered as the SGEMM packs them, and the backward's im2col, dw and col2im, against the direct loop
// summed in double (reference: true). The shapes are the ones the ResNets send there (the stem's 7x7
// stride 2 over 3 channels, 3x3 and 1x1 at stride 2) and the edges of the gather: windows that
// leave the image on both sides at once (a kernel wider than the image), stride above the kernel,
// no padding, a single pixel, and images whose columns outgrow im2col's buffer.
// Tolerance: max error relative to the reference's scale <= 1e-5; fp32 sums of at most 7*7*48 products.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { randomValues, rng } from '../../helpers/random';

const engine = loadEngine();
const { Tensor } = engine;
const TOLERANCE = 1e-5;

interface Case { n: number; h: number; w: number; c: number; o: number; kernel: number; stride: number; pad: number }

const CASES: Case[] = [
  { n: 2, h: 23, w: 17, c: 3, o: 16, kernel: 7, stride: 2, pad: 3 },   // the stem, odd sides
  { n: 3, h: 9, w: 10, c: 48, o: 20, kernel: 3, stride: 2, pad: 1 },   // a stage's first 3x3
  { n: 2, h: 8, w: 7, c: 33, o: 12, kernel: 1, stride: 2, pad: 0 },    // a projection shortcut
  { n: 1, h: 4, w: 3, c: 5, o: 6, kernel: 7, stride: 1, pad: 3 },      // windows wider than the image
  { n: 2, h: 11, w: 12, c: 4, o: 9, kernel: 2, stride: 3, pad: 1 },    // stride above the kernel
  { n: 1, h: 6, w: 9, c: 7, o: 5, kernel: 5, stride: 1, pad: 0 },      // no padding
  { n: 2, h: 1, w: 1, c: 8, o: 3, kernel: 3, stride: 2, pad: 1 },      // a single pixel
  // 34 MB of columns per image: im2col's 64 MB budget takes one image at a time, so dw sums chunks.
  { n: 2, h: 240, w: 240, c: 3, o: 4, kernel: 7, stride: 1, pad: 3 },
];

function check(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) {
  const error = maxRelativeError(actual, expected);
  assert.ok(error <= TOLERANCE, `${what}: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
}

describe('conv2d GEMM path (CPU) against the direct loop', () => {
  CASES.forEach((s, i) => {
    it(`forward, dx and dw: ${JSON.stringify(s)}`, () => {
      const next = rng(700 + i);
      const values = (count: number) => Float32Array.from(randomValues(next, count));
      const p = Math.floor((s.h + 2 * s.pad - s.kernel) / s.stride) + 1;
      const q = Math.floor((s.w + 2 * s.pad - s.kernel) / s.stride) + 1;
      const x = Tensor.fromArray(values(s.n * s.h * s.w * s.c), [s.n, s.h, s.w, s.c]);
      const w = Tensor.fromArray(values(s.o * s.kernel * s.kernel * s.c), [s.o, s.kernel, s.kernel, s.c]);
      const dy = Tensor.fromArray(values(s.n * p * q * s.o), [s.n, p, q, s.o]);
      const params = { kernel: s.kernel, stride: s.stride, pad: s.pad };

      const y = engine.conv2dForward(x, w, { ...params, algorithm: 'gemm' });
      assert.deepEqual(y.shape, [s.n, p, q, s.o]);
      check('y', floats(y), floats(engine.conv2dForward(x, w, { ...params, reference: true })));

      const fast = engine.conv2dBackward(x, w, dy, { ...params, algorithm: 'gemm' });
      const reference = engine.conv2dBackward(x, w, dy, { ...params, reference: true });
      check('dx', floats(fast.dx!), floats(reference.dx!));
      check('dw', floats(fast.dw), floats(reference.dw));
      const weightOnly = engine.conv2dBackward(x, w, dy, { ...params, algorithm: 'gemm', dx: false });
      assert.equal(weightOnly.dx, undefined);
      assert.deepEqual(floats(weightOnly.dw), floats(fast.dw));
    });
  });
});
