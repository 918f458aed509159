// Mixup/CutMix on CUDA against the CPU (native/src/ops/mixup.h): the blend of each image with its
// flipped partner and the box swap give the CPU's floats bit for bit (both round each product and
// the sum separately), for boxes inside, at the border and empty, and batches large enough for
// the grid-stride loops; the mixed targets too, odd batches included. Skips, printing why, where
// no CUDA device is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type MixupParams } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import { randInt, randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T } = engine;

const noBox = { y0: 0, y1: 0, x0: 0, x1: 0 };

describe('mixup CUDA vs CPU', { skip }, () => {
  const cases: { shape: [number, number, number, number]; params: MixupParams; name: string }[] = [
    { name: 'mixup lam 0.3', shape: [4, 5, 6, 3], params: { lam: 0.3, cutmix: false, box: noBox } },
    { name: 'mixup lam 0.77, large batch', shape: [64, 32, 32, 3], params: { lam: 0.77, cutmix: false, box: noBox } },
    { name: 'mixup lam 0', shape: [2, 3, 3, 3], params: { lam: 0, cutmix: false, box: noBox } },
    { name: 'cutmix inner box', shape: [6, 9, 7, 3], params: { lam: 0.6, cutmix: true, box: { y0: 2, y1: 5, x0: 1, x1: 6 } } },
    { name: 'cutmix box at the border', shape: [4, 8, 8, 3], params: { lam: 0.5, cutmix: true, box: { y0: 4, y1: 8, x0: 0, x1: 8 } } },
    { name: 'cutmix empty box', shape: [2, 4, 4, 3], params: { lam: 1, cutmix: true, box: { y0: 2, y1: 2, x0: 0, x1: 4 } } },
    { name: 'cutmix whole image, large batch', shape: [32, 16, 16, 3], params: { lam: 0, cutmix: true, box: { y0: 0, y1: 16, x0: 0, x1: 16 } } },
  ];
  cases.forEach(({ name, shape, params }, i) => {
    it(name, () => {
      const values = Float32Array.from(randomValues(rng(500 + i), shape.reduce((a, b) => a * b, 1)));
      const cuda = T.fromArray(values, shape, 'f32', 'cuda');
      const cpu = T.fromArray(values, shape);
      engine.mixupApply(cuda, params);
      engine.mixupApply(cpu, params);
      assert.equal(cuda.device, 'cuda:0');
      assert.deepEqual(floats(cuda), floats(cpu));
    });
  });

  it('mixes the targets as the CPU does, odd batches included', () => {
    for (const [n, k, lam, smoothing] of [[8, 10, 0.35, 0.1], [5, 7, 0.5, 0], [3, 1000, 0.9, 0.1], [2, 3, 1, 0]] as const) {
      const next = rng(600 + n);
      const labels = BigInt64Array.from({ length: n }, () => BigInt(randInt(next, 0, k - 1)));
      const cuda = engine.mixupTargets(T.fromArray(labels, [n], 'i64', 'cuda'), k, { lam, smoothing });
      const cpu = engine.mixupTargets(T.fromArray(labels, [n]), k, { lam, smoothing });
      assert.equal(cuda.device, 'cuda:0');
      assert.deepEqual(floats(cuda), floats(cpu), `N${n} K${k} lam ${lam}`);
    }
  });

  it('refuses what the CPU refuses, naming it', () => {
    const odd = T.fromArray(new Float32Array(3 * 2 * 2 * 3), [3, 2, 2, 3], 'f32', 'cuda');
    assert.throws(() => engine.mixupApply(odd, { lam: 0.5, cutmix: false, box: noBox }), /batch size must be even/);
    const x = T.fromArray(new Float32Array(2 * 4 * 4 * 3), [2, 4, 4, 3], 'bf16', 'cuda');
    assert.throws(() => engine.mixupApply(x, { lam: 0.5, cutmix: false, box: noBox }), /x must be f32 on cuda:0, got bf16/);
    const labels = T.fromArray(BigInt64Array.of(0n, 9n), [2], 'i64', 'cuda');
    assert.throws(() => engine.mixupTargets(labels, 5, { lam: 0.5 }), /labels\[1\] = 9 is outside \[0, 5\)/);
  });
});
