// The losses (native/src/ops/losses.h) against timm's, run by PyTorch in
// scripts/fixtures/generate_losses.py: loss values and autograd's dlogits within 1e-6, smoothed
// one-hot targets exactly, and every invalid argument answered by a clear error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';

const engine = loadEngine();
const { Tensor } = engine;
const fixture = readFixture('losses.safetensors');
const params = JSON.parse(fixture.metadata.params!) as { smoothing: number; bce_threshold: number };

function stored(name: string): Tensor {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`losses.safetensors has no ${name}`);
  return Tensor.fromArray(t.data as Float32Array | BigInt64Array, t.shape);
}

function expectLoss(actual: { loss: number; dlogits: Tensor }, prefix: string): void {
  const loss = fixture.tensors.get(`${prefix}.loss`)!.data[0] as number;
  assert.ok(Math.abs(actual.loss - loss) <= 1e-6 * Math.abs(loss), `${prefix}: loss ${actual.loss}, torch ${loss}`);
  const error = maxRelativeError(floats(actual.dlogits), floats(stored(`${prefix}.dlogits`)));
  assert.ok(error <= 1e-6, `${prefix}: dlogits are ${error} from torch`);
}

const logits = stored('logits');
const labels = stored('labels');
const [n, k] = logits.shape as [number, number];
const labelsOf = (values: number[]) => Tensor.fromArray(BigInt64Array.from(values.map(BigInt)), [values.length]);

describe('losses against timm in PyTorch', () => {
  it('smoothOneHot gives timm one_hot with smoothing, bit for bit', () => {
    const targets = engine.smoothOneHot(labels, k, params.smoothing);
    assert.deepEqual(targets.shape, [n, k]);
    assert.deepEqual(floats(targets), floats(stored('smooth.targets')));
  });

  it('crossEntropy is SoftTargetCrossEntropy', () => {
    expectLoss(engine.crossEntropy(logits, stored('soft_ce.targets')), 'soft_ce');
  });

  it('crossEntropy keeps the exact gradient when target rows do not sum to 1', () => {
    expectLoss(engine.crossEntropy(logits, stored('soft_ce_unnormalized.targets')), 'soft_ce_unnormalized');
  });

  for (const s of [params.smoothing, 0]) {
    it(`labelSmoothingCrossEntropy is LabelSmoothingCrossEntropy at smoothing ${s}`, () => {
      expectLoss(engine.labelSmoothingCrossEntropy(logits, labels, s), `ls_ce.s${s.toFixed(1)}`);
    });
  }

  it('label smoothing equals the soft-target loss against smoothOneHot', () => {
    // Up to the f32 rounding of the stored targets.
    const direct = engine.labelSmoothingCrossEntropy(logits, labels, 0.25);
    const soft = engine.crossEntropy(logits, engine.smoothOneHot(labels, k, 0.25));
    assert.ok(Math.abs(direct.loss - soft.loss) <= 1e-6 * soft.loss);
    assert.ok(maxRelativeError(floats(direct.dlogits), floats(soft.dlogits)) <= 1e-6);
  });

  it('binaryCrossEntropy is BinaryCrossEntropy, mean over all elements', () => {
    expectLoss(engine.binaryCrossEntropy(logits, stored('soft_ce.targets')), 'bce');
    expectLoss(engine.binaryCrossEntropy(logits, stored('soft_ce.targets'), { targetThreshold: null }), 'bce');
  });

  it('binaryCrossEntropy binarizes at target_threshold, comparing in f32 like torch', () => {
    // Some targets are float32(0.2) > 0.2 as doubles: torch keeps them at 0, and so must we.
    const targets = stored('bce_thresh.targets');
    expectLoss(engine.binaryCrossEntropy(logits, targets, { targetThreshold: params.bce_threshold }), 'bce_thresh');
  });

  it('stays finite on extreme logits', () => {
    const z = Tensor.fromArray(new Float32Array([1e4, -1e4, 0, -1e4, 1e4, 0]), [2, 3]);
    const t = engine.smoothOneHot(labelsOf([1, 1]), 3, 0.1);
    for (const result of [engine.crossEntropy(z, t), engine.labelSmoothingCrossEntropy(z, labelsOf([1, 1]), 0.1),
      engine.binaryCrossEntropy(z, t)]) {
      assert.ok(Number.isFinite(result.loss));
      assert.ok(floats(result.dlogits).every(Number.isFinite));
    }
  });
});

describe('loss argument errors', () => {
  const targets = stored('soft_ce.targets');

  it('names shape mismatches', () => {
    const narrow = Tensor.zeros([n, k - 1]);
    assert.throws(() => engine.crossEntropy(logits, narrow), /soft_target_cross_entropy: targets have shape \(6,9\) but the logits \(6,10\)/);
    assert.throws(() => engine.binaryCrossEntropy(logits, narrow), /binary_cross_entropy: targets have shape \(6,9\)/);
    assert.throws(() => engine.crossEntropy(Tensor.zeros([n * k]), targets), /logits must be \(N,K\) with N, K >= 1, got shape \(60\)/);
    assert.throws(() => engine.crossEntropy(Tensor.zeros([0, k]), Tensor.zeros([0, k])), /N, K >= 1/);
    assert.throws(() => engine.labelSmoothingCrossEntropy(logits, labelsOf([1, 2]), 0.1), /labels must have shape \(6\), got \(2\)/);
  });

  it('refuses labels out of range', () => {
    assert.throws(() => engine.labelSmoothingCrossEntropy(logits, labelsOf([0, 1, 10, 0, 0, 0]), 0),
      /label_smoothing_cross_entropy: labels\[2\] = 10 is outside \[0, 10\)/);
    assert.throws(() => engine.smoothOneHot(labelsOf([-1]), 3, 0), /smooth_one_hot: labels\[0\] = -1 is outside \[0, 3\)/);
  });

  it('refuses smoothing outside [0, 1)', () => {
    for (const s of [1, -0.1, Number.NaN]) {
      assert.throws(() => engine.labelSmoothingCrossEntropy(logits, labels, s), /smoothing must be in \[0, 1\)/);
      assert.throws(() => engine.smoothOneHot(labels, k, s), /smoothing must be in \[0, 1\)/);
    }
  });

  it('checks dtypes, the threshold and the argument types', () => {
    assert.throws(() => engine.crossEntropy(logits.cast('f64'), targets), /logits must be f32, got f64/);
    assert.throws(() => engine.crossEntropy(logits, targets.cast('f64')), /targets must be f32 on the cpu, got f64/);
    assert.throws(() => engine.labelSmoothingCrossEntropy(logits, logits, 0), /labels must be i64 on the cpu, got f32/);
    assert.throws(() => engine.binaryCrossEntropy(logits, targets, { targetThreshold: Number.NaN }),
      /target_threshold must be a finite number/);
    assert.throws(() => engine.binaryCrossEntropy(logits, targets, { targetThreshold: '0.2' as unknown as number }), TypeError);
    assert.throws(() => engine.smoothOneHot(labels, 0, 0), /numClasses must be a positive integer, got 0/);
    assert.throws(() => engine.labelSmoothingCrossEntropy(logits, labels, undefined as unknown as number), TypeError);
    assert.throws(() => engine.crossEntropy(logits, [] as unknown as Tensor), /argument 'targets' must be a Tensor/);
  });
});
