// maxpool on the CPU (ops/cpu/maxpool.cpp) against the definition written out here: the maximum of
// each window inside the image, the gradient to the first maximum in window order (rows, then
// columns) as PyTorch gives it, summed where windows overlap. Values drawn from five levels so ties
// are common; padded and unpadded windows, strides below, at and above the kernel, odd sides and
// channel counts past a vector. Exact: a maximum is one of the inputs and each gradient a sum of dy
// values taken in the same order.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { randomValues, rng } from '../../helpers/random';

const engine = loadEngine();
const { Tensor } = engine;

interface Case { n: number; h: number; w: number; c: number; kernel: number; stride: number; pad: number }

function reference(x: Float32Array, dy: Float32Array | null, s: Case) {
  const p = Math.floor((s.h + 2 * s.pad - s.kernel) / s.stride) + 1;
  const q = Math.floor((s.w + 2 * s.pad - s.kernel) / s.stride) + 1;
  const y = new Float32Array(s.n * p * q * s.c);
  const dx = new Float32Array(x.length);
  for (let n = 0; n < s.n; n++)
    for (let i = 0; i < p; i++)
      for (let j = 0; j < q; j++)
        for (let c = 0; c < s.c; c++) {
          let best = -Infinity, at = -1;
          for (let kh = 0; kh < s.kernel; kh++)
            for (let kw = 0; kw < s.kernel; kw++) {
              const h = i * s.stride - s.pad + kh, w = j * s.stride - s.pad + kw;
              if (h < 0 || h >= s.h || w < 0 || w >= s.w) continue;
              const index = ((n * s.h + h) * s.w + w) * s.c + c;
              if (at < 0 || x[index]! > best) best = x[index]!, at = index;
            }
          const out = ((n * p + i) * q + j) * s.c + c;
          y[out] = best;
          if (dy) dx[at] = dx[at]! + dy[out]!;
        }
  return { y, dx, p, q };
}

const CASES: Case[] = [
  { n: 2, h: 112, w: 112, c: 64, kernel: 3, stride: 2, pad: 1 },  // ResNet's stem pool
  { n: 1, h: 7, w: 9, c: 19, kernel: 3, stride: 2, pad: 1 },
  { n: 3, h: 5, w: 5, c: 3, kernel: 2, stride: 2, pad: 0 },
  { n: 2, h: 6, w: 5, c: 17, kernel: 3, stride: 1, pad: 1 },
  { n: 1, h: 8, w: 8, c: 33, kernel: 2, stride: 3, pad: 1 },
  { n: 1, h: 1, w: 1, c: 5, kernel: 1, stride: 1, pad: 0 },
];

describe('maxpool (CPU) against the definition', () => {
  CASES.forEach((s, i) => {
    it(`forward and backward, ties included: ${JSON.stringify(s)}`, () => {
      const next = rng(500 + i);
      const x = Float32Array.from(randomValues(next, s.n * s.h * s.w * s.c, true));
      const params = { kernel: s.kernel, stride: s.stride, pad: s.pad };
      const expected = reference(x, null, s);
      const dy = Float32Array.from(randomValues(next, s.n * expected.p * expected.q * s.c));
      const { y, dx } = reference(x, dy, s);
      const xt = Tensor.fromArray(x, [s.n, s.h, s.w, s.c]);
      const yt = engine.maxpoolForward(xt, params);
      assert.deepEqual(yt.shape, [s.n, expected.p, expected.q, s.c]);
      assert.deepEqual(yt.toArray(), y);
      const dxt = engine.maxpoolBackward(xt, Tensor.fromArray(dy, [s.n, expected.p, expected.q, s.c]), params);
      assert.deepEqual(dxt.toArray(), dx);
    });
  });
});
