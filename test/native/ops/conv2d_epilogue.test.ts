// conv2d's forward fast path — one SGEMM whose A is gathered from x window by window (GemmWindows)
// or, for 1x1 stride 1, is x itself — with its inference epilogue (ops/conv2d.h):
// y = relu?(conv(x) + bias[o] (+ residual)). The reference loop's epilogue against a JS one over its
// plain convolution; the fast path against the reference loop, in fp32 and in bf16 (against the
// reference over bf16-rounded x and w), on shapes that split K into blocks and across threads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type ConvEpilogueParams } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { randomValues, rng } from '../../helpers/random';

const engine = loadEngine();
const { Tensor } = engine;
const TOLERANCE = 1e-5;

interface Case {
  n: number; h: number; w: number; c: number; o: number;
  kernel: number; stride: number; pad: number;
}

function outSize(s: Case, size: number): number {
  return Math.floor((size + 2 * s.pad - s.kernel) / s.stride) + 1;
}

function inputs(s: Case, seed: number) {
  const next = rng(seed);
  const values = (count: number) => Float32Array.from(randomValues(next, count));
  const p = outSize(s, s.h), q = outSize(s, s.w);
  return {
    x: Tensor.fromArray(values(s.n * s.h * s.w * s.c), [s.n, s.h, s.w, s.c]),
    w: Tensor.fromArray(values(s.o * s.kernel * s.kernel * s.c), [s.o, s.kernel, s.kernel, s.c]),
    bias: Tensor.fromArray(values(s.o), [s.o]),
    residual: Tensor.fromArray(values(s.n * p * q * s.o), [s.n, p, q, s.o]),
  };
}

/** The epilogue in JS over a plain convolution's output. */
function withEpilogue(y: ArrayLike<number>, o: number, e: ConvEpilogueParams): Float64Array {
  const bias = e.bias ? floats(e.bias) : undefined;
  const residual = e.residual ? floats(e.residual) : undefined;
  return Float64Array.from(y, (v: number, i: number) => {
    let out = v + (bias ? bias[i % o]! : 0) + (residual ? residual[i]! : 0);
    if (e.relu && !(out > 0)) out = 0;
    return out;
  });
}

const EPILOGUES = ['bias', 'bias+relu', 'bias+residual+relu', 'residual', 'relu'];

function epilogue(name: string, t: ReturnType<typeof inputs>): ConvEpilogueParams {
  return {
    ...(name.includes('bias') ? { bias: t.bias } : {}),
    ...(name.includes('residual') ? { residual: t.residual } : {}),
    relu: name.includes('relu'),
  };
}

const params = (s: Case) => ({ kernel: s.kernel, stride: s.stride, pad: s.pad });

describe('conv2d epilogue', () => {
  const cases: Case[] = [
    { n: 2, h: 7, w: 7, c: 70, o: 67, kernel: 1, stride: 1, pad: 0 },  // one SGEMM over all pixels
    { n: 2, h: 9, w: 9, c: 5, o: 37, kernel: 3, stride: 1, pad: 1 },
    { n: 2, h: 8, w: 8, c: 6, o: 4, kernel: 1, stride: 2, pad: 0 },    // projection shortcut
    { n: 1, h: 13, w: 11, c: 3, o: 8, kernel: 7, stride: 2, pad: 3 },  // ImageNet stem
    { n: 2, h: 4, w: 4, c: 130, o: 9, kernel: 3, stride: 1, pad: 1 },  // K over several KC blocks
    { n: 1, h: 7, w: 7, c: 512, o: 64, kernel: 3, stride: 1, pad: 1 }, // few rows, deep K: split across threads
    { n: 3, h: 6, w: 5, c: 4, o: 3, kernel: 3, stride: 2, pad: 0 },
  ];
  cases.forEach((s, i) => {
    for (const name of EPILOGUES) {
      it(`${name}: ${JSON.stringify(s)}`, () => {
        const t = inputs(s, 10 + i);
        const e = epilogue(name, t);
        const plain = floats(engine.conv2dForward(t.x, t.w, { ...params(s), reference: true }));
        const reference = floats(engine.conv2dForward(t.x, t.w, { ...params(s), reference: true, ...e }));
        assert.ok(maxRelativeError(reference, withEpilogue(plain, s.o, e)) <= 1e-6, 'reference epilogue');
        const fast = floats(engine.conv2dForward(t.x, t.w, { ...params(s), ...e }));
        const error = maxRelativeError(fast, reference);
        assert.ok(error <= TOLERANCE, `fast vs reference: ${error.toExponential(2)}`);
      });
    }
  });

  it('computes in bf16 as the reference over bf16-rounded x and w (setCpuPrecision)', () => {
    const rounded = (t: ReturnType<typeof Tensor.fromArray>) => Tensor.fromArray(t.toArray() as Float32Array, t.shape, 'bf16').cast('f32');
    cases.forEach((s, i) => {
      const t = inputs(s, 50 + i);
      const e = epilogue('bias+residual+relu', t);
      const reference = floats(engine.conv2dForward(rounded(t.x), rounded(t.w), { ...params(s), reference: true, ...e }));
      engine.setCpuPrecision('bf16');
      try {
        const fast = floats(engine.conv2dForward(t.x, t.w, { ...params(s), ...e }));
        const error = maxRelativeError(fast, reference);
        assert.ok(error <= TOLERANCE, `${JSON.stringify(s)}: ${error.toExponential(2)}`);
      } finally {
        engine.setCpuPrecision('fp32');
      }
    });
  });

  it('names a bias or residual of the wrong shape', () => {
    const t = inputs({ n: 1, h: 4, w: 4, c: 2, o: 3, kernel: 1, stride: 1, pad: 0 }, 1);
    assert.throws(() => engine.conv2dForward(t.x, t.w, { bias: Tensor.zeros([4]) }), /conv2d: bias must be \(3\), got \(4\)/);
    assert.throws(() => engine.conv2dForward(t.x, t.w, { residual: Tensor.zeros([1, 4, 4, 2]) }),
      /conv2d: residual must be f32 \(1,4,4,3\) like the output/);
  });
});
