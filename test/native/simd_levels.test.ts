// Every SIMD level below the host's, on this one machine: a child process with PIX_SIMD set runs the
// narrower kernels (the AVX2 and portable SGEMM, Winograd's bodies, the image ops' passes), which a
// CI machine with AVX-512 would otherwise never execute. Against the host level's results: a tiny
// network's logits and gradients within 1e-4 (the sums round in another order), Winograd's forward,
// dx and dw within 1e-4 of the double-precision direct loop, and the image ops byte for byte (their
// SIMD passes are exact by design); and the unit tests of the ops whose loops are compiled per level
// (core/simd_bodies.h), whole, under each. Skips the levels the CPU lacks, saying so.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { maxRelativeError } from '../helpers/compare';
import { hostLevels, hostSimd as host } from '../helpers/simd_levels';

const below = hostLevels.slice(0, -1);

// Runs in a child (the level is read once per process) and prints its results as JSON.
const PROBE = `
const engine = require(${JSON.stringify(join(__dirname, '..', '..', 'electron', 'host', 'engine', 'addon.js'))}).loadEngine();
const { Tensor } = engine;
let seed = 7;
const random = (n) => Float32Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 * 2 - 1; });
const arr = (t) => Array.from(t.toArray());
(async () => {
  const out = { simd: engine.engineInfo().backends.cpu.simd };
  // A tiny network: logits and one weight gradient of a training step.
  const model = new engine.Model('pix_resnet_tiny_cs', { seed: 3 });
  const x = Tensor.fromArray(random(2 * 3 * 24 * 24), [2, 3, 24, 24]);
  const logits = await model.forward(x, { train: true });
  out.logits = arr(logits);
  await model.backward(Tensor.fromArray(random(logits.numel), logits.shape));
  out.grad = arr(model.getGrad('layer1.blocks.0.conv_ce.weight'));
  // Winograd against the direct loop, on a shape with edge tiles.
  const conv = { kernel: 3, stride: 1, pad: 1 };
  const cx = Tensor.fromArray(random(2 * 9 * 7 * 24), [2, 9, 7, 24]);
  const cw = Tensor.fromArray(random(20 * 9 * 24).map((v) => v * 0.2), [20, 3, 3, 24]);
  const dy = Tensor.fromArray(random(2 * 9 * 7 * 20), [2, 9, 7, 20]);
  out.winograd = { y: arr(engine.conv2dForward(cx, cw, { ...conv, algorithm: 'winograd' })) };
  out.reference = { y: arr(engine.conv2dForward(cx, cw, { ...conv, reference: true })) };
  const back = engine.conv2dBackward(cx, cw, dy, { ...conv, algorithm: 'winograd' });
  const ref = engine.conv2dBackward(cx, cw, dy, { ...conv, reference: true });
  Object.assign(out.winograd, { dx: arr(back.dx), dw: arr(back.dw) });
  Object.assign(out.reference, { dx: arr(ref.dx), dw: arr(ref.dw) });
  // The image ops: a bicubic resize with a flip, and a rotation.
  const src = Uint8Array.from(random(61 * 47 * 3), (v) => Math.floor((v + 1) * 127.9));
  const resized = new Uint8Array(33 * 29 * 3);
  engine.resizeImage(src, 61, 47, resized, 33, 29, { resample: 'bicubic', flip: true });
  const rotated = Uint8Array.from(src);
  const c = Math.cos(0.3), s = Math.sin(0.3);
  engine.augmentImage(rotated, 61, 47, [{ op: 'affine', matrix: [c, s, -5, -s, c, 9], resample: 'bilinear', fill: [128, 128, 128] }]);
  out.resized = Array.from(resized);
  out.rotated = Array.from(rotated);
  process.stdout.write(JSON.stringify(out));
})();
`;

// The test files of the ops with per-level bodies, run as they are under each narrower level.
const PER_LEVEL_TESTS = ['ops/maxpool.test.js'];

interface Probe {
  simd: string;
  logits: number[];
  grad: number[];
  winograd: { y: number[]; dx: number[]; dw: number[] };
  reference: { y: number[]; dx: number[]; dw: number[] };
  resized: number[];
  rotated: number[];
}

function probe(level?: string): Probe {
  const env = { ...process.env };
  if (level) env.PIX_SIMD = level;
  else delete env.PIX_SIMD;
  const child = spawnSync(process.execPath, ['-e', PROBE], { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as Probe;
}

describe('SIMD levels below the host\'s (PIX_SIMD)', () => {
  if (below.length === 0) {
    it('has nothing narrower to run', { skip: `this CPU's level is ${host}, the narrowest` }, () => {});
    return;
  }
  const wide = probe();

  for (const level of below) {
    it(`${level}: the same network, Winograd and image ops as ${host}`, () => {
      const narrow = probe(level);
      assert.equal(narrow.simd, level);
      assert.ok(maxRelativeError(narrow.logits, wide.logits) <= 1e-4, 'logits');
      assert.ok(maxRelativeError(narrow.grad, wide.grad) <= 1e-4, 'gradient');
      for (const key of ['y', 'dx', 'dw'] as const) {
        const error = maxRelativeError(narrow.winograd[key], narrow.reference[key]);
        assert.ok(error <= 1e-4, `Winograd ${key}: ${error}`);
      }
      assert.deepEqual(narrow.resized, wide.resized, 'resize');
      assert.deepEqual(narrow.rotated, wide.rotated, 'affine');
    });

    it(`${level}: the op tests of ${PER_LEVEL_TESTS.join(', ')}`, () => {
      const files = PER_LEVEL_TESTS.map((file) => join(__dirname, file));
      const child = spawnSync(process.execPath, ['--test', '--test-reporter=dot', ...files],
        { encoding: 'utf8', env: { ...process.env, PIX_SIMD: level }, timeout: 300_000 });
      assert.equal(child.status, 0, `PIX_SIMD=${level}:\n${child.stdout}${child.stderr}`);
    });
  }

  it('ignores a level name it does not know, saying so', () => {
    const child = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(
      join(__dirname, '..', '..', 'electron', 'host', 'engine', 'addon.js'))}).engineInfo().backends.cpu.simd)`],
    { encoding: 'utf8', env: { ...process.env, PIX_SIMD: 'sse9' } });
    assert.equal(child.stdout, host);
    assert.match(child.stderr, /PIX_SIMD='sse9' is not portable, avx2 or avx512; using/);
  });
});
