// Winograd F(4x4, 3x3) for 3x3 stride-1 pad-1 convolutions on the CPU (ops/cpu/conv2d_winograd.h):
// the forward with each part of the epilogue (bias, residual, ReLU, per-image mean), dx and dw of the
// backward, against the direct loop summed in double (reference: true), on shapes whose sides are not
// multiples of the 4x4 tile, 1x1 and 2x2 images, odd channel counts, input channels over several
// 256-deep blocks, and enough tiles and channels to split the work into blocks and chunks; then which
// convolutions the engine's own pick (algorithm 'auto') sends to it.
//
// Tolerance: max error relative to the reference output's scale (max |y|) <= 1e-4, as the network
// conformance tests. The reference sums in double, so what is measured is the fp32 error of Winograd
// alone: the input, weight and output transforms each round and grow values by up to their norms
// (|B^T|inf = 7, |G|inf = 28/15, |A^T|inf = 11.1 for these points: 0, 1, -1, 2, -1/2, infinity), on
// top of the sums over input channels that any fp32 convolution rounds. Random-sign rounding errors
// add in quadrature, which puts a 2-D tile's error at a few u * |A^T|^2 |B^T| ... ~ 1e-6 of the
// output's scale (u = 2^-24); the worst case, errors all of one sign, is ~100x that. Measured on these
// cases: 2e-7 .. 3e-6 (the implicit GEMM: 1e-7 .. 3e-7), well inside 1e-4.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { engineInfo, loadEngine, type ConvEpilogueParams } from '../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../helpers/compare';
import { randomValues, rng } from '../helpers/random';

const engine = loadEngine();
const { Tensor } = engine;
const TOLERANCE = 1e-4;
const CONV = { kernel: 3, stride: 1, pad: 1 };

interface Case { n: number; h: number; w: number; c: number; o: number }

function inputs(s: Case, seed: number) {
  const next = rng(seed);
  const values = (count: number, scale = 1) => Float32Array.from(randomValues(next, count), (v) => v * scale);
  return {
    x: Tensor.fromArray(values(s.n * s.h * s.w * s.c), [s.n, s.h, s.w, s.c]),
    // He-like scale, so that outputs are O(1) whatever C is: the residual and bias then matter.
    w: Tensor.fromArray(values(s.o * 9 * s.c, Math.sqrt(3 / (9 * s.c))), [s.o, 3, 3, s.c]),
    bias: Tensor.fromArray(values(s.o), [s.o]),
    residual: Tensor.fromArray(values(s.n * s.h * s.w * s.o), [s.n, s.h, s.w, s.o]),
    dy: Tensor.fromArray(values(s.n * s.h * s.w * s.o), [s.n, s.h, s.w, s.o]),
  };
}

type Inputs = ReturnType<typeof inputs>;

const EPILOGUES = ['none', 'bias', 'residual', 'relu', 'mean', 'bias+residual+relu+mean'];

/** The epilogue `name` names, with a fresh mean tensor (overwritten by the call). */
function epilogue(name: string, s: Case, t: Inputs): ConvEpilogueParams {
  return {
    ...(name.includes('bias') ? { bias: t.bias } : {}),
    ...(name.includes('residual') ? { residual: t.residual } : {}),
    ...(name.includes('relu') ? { relu: true } : {}),
    ...(name.includes('mean') ? { mean: Tensor.fromArray(new Float32Array(s.n * s.o).fill(NaN), [s.n, s.o]) } : {}),
  };
}

function check(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>) {
  const error = maxRelativeError(actual, expected);
  assert.ok(error <= TOLERANCE, `${what}: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
}

// Both of its schedules run (see conv2d_winograd.cpp): weight-stationary where there are at least 4
// output channels per 4x4 tile (ws), input-stationary elsewhere (is).
const CASES: Case[] = [
  { n: 1, h: 1, w: 1, c: 3, o: 4 },       // ws; one pixel: the tile is all padding but its centre
  { n: 3, h: 2, w: 2, c: 17, o: 19 },     // ws; 2x2 images, odd channels
  { n: 2, h: 9, w: 9, c: 5, o: 37 },      // is; sides 4k + 1
  { n: 1, h: 5, w: 11, c: 33, o: 70 },    // ws; unequal sides, channels past a 16-lane vector and a 32-wide panel
  { n: 3, h: 6, w: 13, c: 16, o: 8 },     // is
  { n: 1, h: 7, w: 7, c: 300, o: 40 },    // ws; input channels over two 256-deep blocks
  { n: 2, h: 10, w: 10, c: 260, o: 20 },  // is; the same
  { n: 2, h: 8, w: 8, c: 64, o: 64 },     // ws; sides multiples of the tile: no edge tiles at the far side
  { n: 3, h: 14, w: 14, c: 64, o: 96 },   // is; several blocks of tiles, several chunks of output channels
  { n: 1, h: 44, w: 44, c: 8, o: 500 },   // ws; several blocks of tiles
];

describe('conv2d Winograd F(4x4,3x3)', () => {
  CASES.forEach((s, i) => {
    it(`forward with each epilogue part: ${JSON.stringify(s)}`, () => {
      const t = inputs(s, 100 + i);
      for (const name of EPILOGUES) {
        const refE = epilogue(name, s, t);
        const winE = epilogue(name, s, t);
        const reference = floats(engine.conv2dForward(t.x, t.w, { ...CONV, reference: true, ...refE }));
        const winograd = floats(engine.conv2dForward(t.x, t.w, { ...CONV, algorithm: 'winograd', ...winE }));
        check(`${name}: y`, winograd, reference);
        if (refE.mean) check(`${name}: mean`, floats(winE.mean!), floats(refE.mean));
      }
    });

    it(`dx and dw of the backward: ${JSON.stringify(s)}`, () => {
      const t = inputs(s, 200 + i);
      const reference = engine.conv2dBackward(t.x, t.w, t.dy, { ...CONV, reference: true });
      const winograd = engine.conv2dBackward(t.x, t.w, t.dy, { ...CONV, algorithm: 'winograd' });
      check('dx', floats(winograd.dx!), floats(reference.dx!));
      check('dw', floats(winograd.dw), floats(reference.dw));
      const dwOnly = engine.conv2dBackward(t.x, t.w, t.dy, { ...CONV, algorithm: 'winograd', dx: false });
      assert.deepEqual(dwOnly.dw.toArray(), winograd.dw.toArray(), 'dw without dx');
    });
  });

  it('carries a NaN input into (at least) the outputs that see it, and ReLU makes NaN 0 as the SGEMM\'s does', () => {
    const s = { n: 1, h: 6, w: 6, c: 4, o: 3 };
    const t = inputs(s, 7);
    const x = floats(t.x);
    x[(2 * 6 + 3) * 4 + 1] = NaN;  // pixel (2,3): outputs (1..3, 2..4) see it
    const xNaN = Tensor.fromArray(Float32Array.from(x), [1, 6, 6, 4]);
    const y = floats(engine.conv2dForward(xNaN, t.w, { ...CONV, algorithm: 'winograd' }));
    const relu = floats(engine.conv2dForward(xNaN, t.w, { ...CONV, algorithm: 'winograd', relu: true }));
    for (let p = 0; p < 6; p++)
      for (let q = 0; q < 6; q++) {
        const seen = Math.abs(p - 2) <= 1 && Math.abs(q - 3) <= 1;
        for (let o = 0; o < 3; o++) {
          const at = (p * 6 + q) * 3 + o;
          if (seen) assert.ok(Number.isNaN(y[at]!), `y(${p},${q}) sees the NaN`);
          assert.ok(!Number.isNaN(relu[at]!), `relu(y)(${p},${q}) is a number`);
        }
      }
  });

  it('names the convolutions it does not compute', () => {
    const x = Tensor.zeros([1, 8, 8, 4]);
    assert.throws(() => engine.conv2dForward(x, Tensor.zeros([2, 3, 3, 4]), { kernel: 3, stride: 2, pad: 1, algorithm: 'winograd' }),
      /Winograd kernel computes 3x3 stride-1 pad-1 convolutions only, got 3x3 stride 2 pad 1/);
    assert.throws(() => engine.conv2dForward(x, Tensor.zeros([2, 1, 1, 4]), { kernel: 1, algorithm: 'winograd' }),
      /Winograd kernel computes 3x3 stride-1 pad-1 convolutions only, got 1x1 stride 1 pad 0/);
    assert.throws(() => engine.conv2dForward(x, Tensor.zeros([2, 3, 3, 4]), { ...CONV, algorithm: 'fft' as 'gemm' }),
      /algorithm must be 'auto', 'gemm' or 'winograd', got 'fft'/);
  });

  it('sums dw over several chunks of tiles', () => {
    // conv2d_winograd_weight.cpp writes the transforms of at most 64 MiB of tiles at a time, 36 * (C + O)
    // floats per tile: 29,127 tiles of 8 + 8 channels. These 8 * 61 * 61 = 29,768 tiles take two chunks.
    const s = { n: 8, h: 244, w: 244, c: 8, o: 8 };
    const t = inputs(s, 400);
    const reference = engine.conv2dBackward(t.x, t.w, t.dy, { ...CONV, reference: true, dx: false });
    const winograd = engine.conv2dBackward(t.x, t.w, t.dy, { ...CONV, algorithm: 'winograd', dx: false });
    check('dw', floats(winograd.dw), floats(reference.dw));
  });

  describe("the engine's pick (algorithm 'auto')", () => {
    // ResNet-50's 3x3 stride-1 convolutions at a small batch, and the smallest that take it: Winograd,
    // bit for bit.
    const NETWORK: Case[] = [
      { n: 2, h: 56, w: 56, c: 64, o: 64 },
      { n: 2, h: 28, w: 28, c: 128, o: 128 },
      { n: 2, h: 14, w: 14, c: 256, o: 256 },
      { n: 2, h: 7, w: 7, c: 512, o: 512 },
      { n: 3, h: 3, w: 3, c: 8, o: 8 },
    ];
    for (const s of NETWORK)
      it(`takes Winograd for ${JSON.stringify(s)}`, () => {
        const t = inputs(s, 300);
        const e = { bias: t.bias, residual: t.residual, relu: true };
        const auto = engine.conv2dForward(t.x, t.w, { ...CONV, ...e }).toArray();
        assert.deepEqual(auto, engine.conv2dForward(t.x, t.w, { ...CONV, algorithm: 'winograd', ...e }).toArray());
        const backAuto = engine.conv2dBackward(t.x, t.w, t.dy, CONV);
        const backWinograd = engine.conv2dBackward(t.x, t.w, t.dy, { ...CONV, algorithm: 'winograd' });
        assert.deepEqual(backAuto.dx!.toArray(), backWinograd.dx!.toArray());
        assert.deepEqual(backAuto.dw.toArray(), backWinograd.dw.toArray());
      });

    it('keeps the implicit GEMM where Winograd does not pay, for the other convolutions and for bf16 products', () => {
      // Images whose 4x4 tiles are mostly padding, and fewer than 8 input channels.
      for (const small of [{ n: 2, h: 2, w: 2, c: 64, o: 64 }, { n: 2, h: 5, w: 5, c: 64, o: 64 }, { n: 2, h: 28, w: 28, c: 4, o: 64 }]) {
        const t = inputs(small, 302);
        assert.deepEqual(engine.conv2dForward(t.x, t.w, CONV).toArray(),
          engine.conv2dForward(t.x, t.w, { ...CONV, algorithm: 'gemm' }).toArray(), JSON.stringify(small));
      }
      const s = { n: 2, h: 28, w: 28, c: 128, o: 128 };
      const t = inputs(s, 301);
      const strided = { kernel: 3, stride: 2, pad: 1 };
      assert.deepEqual(engine.conv2dForward(t.x, t.w, strided).toArray(),
        engine.conv2dForward(t.x, t.w, { ...strided, algorithm: 'gemm' }).toArray());
      engine.setCpuPrecision('bf16');
      try {
        assert.deepEqual(engine.conv2dForward(t.x, t.w, CONV).toArray(),
          engine.conv2dForward(t.x, t.w, { ...CONV, algorithm: 'gemm' }).toArray());
      } finally {
        engine.setCpuPrecision('fp32');
      }
    });

    it('keeps the implicit GEMM everywhere with PIX_CONV_WINOGRAD=0', () => {
      const script = `
        const e = require(${JSON.stringify(engineInfo().addonPath)});
        const x = e.Tensor.fromArray(Float32Array.from({ length: 2 * 28 * 28 * 128 }, (_, i) => Math.sin(i)), [2, 28, 28, 128]);
        const w = e.Tensor.fromArray(Float32Array.from({ length: 128 * 9 * 128 }, (_, i) => Math.cos(i) / 34), [128, 3, 3, 128]);
        const p = { kernel: 3, stride: 1, pad: 1 };
        const same = (a, b) => a.every((v, i) => Object.is(v, b[i]));
        const auto = e.conv2dForward(x, w, p).toArray();
        console.log(JSON.stringify({
          gemm: same(auto, e.conv2dForward(x, w, { ...p, algorithm: 'gemm' }).toArray()),
          winograd: same(auto, e.conv2dForward(x, w, { ...p, algorithm: 'winograd' }).toArray()),
        }));`;
      for (const [setting, expected] of [['0', { gemm: true, winograd: false }], ['1', { gemm: false, winograd: true }]] as const) {
        const child = spawnSync(process.execPath, ['-e', script], {
          env: { ...process.env, PIX_CONV_WINOGRAD: setting }, encoding: 'utf8', timeout: 60_000,
        });
        assert.equal(child.status, 0, child.stderr);
        assert.deepEqual(JSON.parse(child.stdout), expected, `PIX_CONV_WINOGRAD=${setting}`);
      }
    });
  });
});
