// The losses on CUDA against the same losses on the CPU (native/src/ops/losses.h): soft-target and
// label-smoothing cross-entropy and BCE (with and without a target threshold), loss values within
// 1e-12 (both sum in double; only the order differs) and dlogits within 1e-6 of the CPU's scale;
// smoothed one-hot targets bit for bit. Shapes cover one class, K beyond one block of threads and
// large logits. Argument errors name the problem on CUDA as on the CPU. Skips, printing why, where
// no CUDA device is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type LossResult } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import { randInt, randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T } = engine;

const LOSS_TOLERANCE = 1e-12;
const GRAD_TOLERANCE = 1e-6;

interface Case { n: number; k: number; scale: number }
const cases: Case[] = [
  { n: 1, k: 1, scale: 1 },
  { n: 4, k: 10, scale: 3 },
  { n: 37, k: 1000, scale: 1 },   // K > the 256 threads of a row's block
  { n: 8, k: 300, scale: 60 },    // large logits: the shifted log-sum-exp must hold
];

function logitsOf(c: Case, seed: number): Float32Array {
  return Float32Array.from(randomValues(rng(seed), c.n * c.k), (v) => v * c.scale);
}

/** Soft targets whose rows do not sum to 1 (as BCE and the soft-target gradient must allow). */
function targetsOf(c: Case, seed: number): Float32Array {
  return Float32Array.from(randomValues(rng(seed), c.n * c.k), (v) => (v + 1) / 2);
}

function labelsOf(c: Case, seed: number): BigInt64Array {
  const next = rng(seed);
  return BigInt64Array.from({ length: c.n }, () => BigInt(randInt(next, 0, c.k - 1)));
}

function assertAgree(name: string, cuda: LossResult, cpu: LossResult): void {
  assert.equal(cuda.dlogits.device, 'cuda:0', `${name}: dlogits stay on the device`);
  const lossError = Math.abs(cuda.loss - cpu.loss) / Math.max(1e-300, Math.abs(cpu.loss));
  assert.ok(lossError <= LOSS_TOLERANCE, `${name}: loss ${cuda.loss} vs cpu ${cpu.loss} (relative ${lossError})`);
  const gradError = maxRelativeError(floats(cuda.dlogits), floats(cpu.dlogits));
  assert.ok(gradError <= GRAD_TOLERANCE, `${name}: dlogits ${gradError.toExponential(2)} from the cpu's`);
}

describe('losses CUDA vs CPU', { skip }, () => {
  cases.forEach((c, i) => {
    const shape = [c.n, c.k];
    const z = logitsOf(c, 100 + i);
    const t = targetsOf(c, 200 + i);
    const y = labelsOf(c, 300 + i);
    const on = (device: string) => ({ z: T.fromArray(z, shape, 'f32', device), t: T.fromArray(t, shape, 'f32', device),
      y: T.fromArray(y, [c.n], 'i64', device) });
    const cpu = on('cpu');
    const cuda = on('cuda');

    it(`soft-target cross-entropy N${c.n} K${c.k} x${c.scale}`, () => {
      assertAgree('crossEntropy', engine.crossEntropy(cuda.z, cuda.t), engine.crossEntropy(cpu.z, cpu.t));
    });

    it(`label-smoothing cross-entropy N${c.n} K${c.k} x${c.scale}`, () => {
      for (const s of [0, 0.1]) {
        assertAgree(`smoothing ${s}`, engine.labelSmoothingCrossEntropy(cuda.z, cuda.y, s),
          engine.labelSmoothingCrossEntropy(cpu.z, cpu.y, s));
      }
    });

    it(`binary cross-entropy N${c.n} K${c.k} x${c.scale}`, () => {
      assertAgree('bce', engine.binaryCrossEntropy(cuda.z, cuda.t), engine.binaryCrossEntropy(cpu.z, cpu.t));
      assertAgree('bce threshold 0.3', engine.binaryCrossEntropy(cuda.z, cuda.t, { targetThreshold: 0.3 }),
        engine.binaryCrossEntropy(cpu.z, cpu.t, { targetThreshold: 0.3 }));
    });

    it(`smoothed one-hot targets N${c.n} K${c.k}, bit for bit`, () => {
      for (const s of [0, 0.1]) {
        const targets = engine.smoothOneHot(cuda.y, c.k, s);
        assert.equal(targets.device, 'cuda:0');
        assert.deepEqual(floats(targets), floats(engine.smoothOneHot(cpu.y, c.k, s)));
      }
    });
  });

  it('names bad arguments on CUDA as on the CPU', () => {
    const z = T.fromArray(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], 'f32', 'cuda');
    const t = T.fromArray(new Float32Array(6), [2, 3]);
    assert.throws(() => engine.crossEntropy(z, t), /soft_target_cross_entropy: targets is on cpu but logits is on cuda:0/);
    const y = T.fromArray(BigInt64Array.of(0n, 3n), [2], 'i64', 'cuda');
    assert.throws(() => engine.labelSmoothingCrossEntropy(z, y, 0), /labels\[1\] = 3 is outside \[0, 3\)/);
    assert.throws(() => engine.smoothOneHot(y, 3, 0), /smooth_one_hot: labels\[1\] = 3 is outside \[0, 3\)/);
    const yCpu = T.fromArray(BigInt64Array.of(0n, 1n), [2]);
    assert.throws(() => engine.labelSmoothingCrossEntropy(z, yCpu, 0), /labels is on cpu but logits is on cuda:0/);
    const bf16 = T.fromArray(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], 'bf16', 'cuda');
    assert.throws(() => engine.binaryCrossEntropy(bf16, z), /logits must be f32, got bf16/);
  });
});
