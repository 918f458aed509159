// The engine's networks against PyTorch (fixtures from scripts/fixtures/generate.py): logits in
// eval and train mode, every parameter gradient and the BatchNorm buffers after a training step
// for the small models; logits of the full PiX-ResNet50_cs and ResNet-50 for seeded weights; and
// the PiX operator alone. Tolerance: max error relative to the reference's scale <= 1e-4 (f32).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredTensor } from '../../../electron/host/checkpoints/safetensors';
import { applyState } from '../../../electron/host/checkpoints/model_state';
import { loadEngine, type Model as EngineModel } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { readFixture } from '../../helpers/fixtures';
import { seededValues } from '../../helpers/seeded_weights';

const TOLERANCE = 1e-4;
const engine = loadEngine();
const { Model, Tensor } = engine;

function engineTensor(stored: StoredTensor) {
  return Tensor.fromArray(stored.data as Float32Array, stored.shape);
}

function withPrefix(tensors: Map<string, StoredTensor>, prefix: string): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const [k, v] of tensors) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  const error = maxRelativeError(actual, expected);
  assert.ok(error <= TOLERANCE, `${what}: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
}

for (const name of ['pix_resnet_tiny_cs', 'resnet_tiny', 'pix_resnet_small_cs', 'resnet_small']) {
  describe(`${name} against PyTorch`, () => {
    const fixture = readFixture(`${name}.safetensors`).tensors;
    const x = engineTensor(fixture.get('input')!);
    let model: EngineModel;

    it('loads the PyTorch state dict strictly', () => {
      model = new Model(name);
      const report = applyState(model, withPrefix(fixture, 'state.'), { strict: true });
      assert.equal(report.loaded.length, model.stateEntries().length);
    });

    it('gives PyTorch logits in eval mode', async () => {
      assertClose(floats(await model.forward(x)), fixture.get('logits.eval')!.data as Float32Array, 'logits.eval');
    });

    it('gives PyTorch logits, gradients and BatchNorm buffers in train mode', async () => {
      const logits = await model.forward(x, { train: true });
      assertClose(floats(logits), fixture.get('logits.train')!.data as Float32Array, 'logits.train');
      // loss = sum(logits * target): dloss/dlogits = target.
      await model.backward(engineTensor(fixture.get('target')!));
      for (const entry of model.stateEntries()) {
        if (entry.parameter) {
          assertClose(floats(model.getGrad(entry.key)), fixture.get(`grad.${entry.key}`)!.data as Float32Array, `grad.${entry.key}`);
        } else if (entry.dtype === 'i64') {
          assert.deepEqual([...(model.getState(entry.key).toArray() as BigInt64Array)], [1n], entry.key);
        } else {
          const expected = fixture.get(`state_after_train.${entry.key}`)!.data as Float32Array;
          assertClose(floats(model.getState(entry.key)), expected, entry.key);
        }
      }
    });
  });
}

for (const name of ['pix_resnet50_cs', 'resnet50']) {
  describe(`${name} (full size, seeded weights) against PyTorch`, () => {
    it('gives PyTorch logits in eval and train mode', async () => {
      const fixture = readFixture(`${name}.forward.safetensors`).tensors;
      const model = new Model(name);
      for (const entry of model.stateEntries()) {
        if (entry.kind === 'bn_num_batches_tracked') continue;  // stays 0
        model.setState(entry.key, Tensor.fromArray(seededValues(entry.key, entry.shape, entry.kind), entry.shape));
      }
      const x = Tensor.fromArray(seededValues('input', [2, 3, 224, 224], 'input'), [2, 3, 224, 224]);
      assertClose(floats(await model.forward(x)), fixture.get('logits.eval')!.data as Float32Array, 'logits.eval');
      assertClose(floats(await model.forward(x, { train: true })), fixture.get('logits.train')!.data as Float32Array, 'logits.train');
    });
  });
}

describe('PiX operator against PyTorch (NCHW, f32)', () => {
  const fixture = readFixture('pix_op.safetensors');
  const zetas = JSON.parse(fixture.metadata.zetas!) as number[];
  zetas.forEach((zeta, i) => {
    it(`case ${i}: zeta ${zeta}`, () => {
      const get = (k: string) => engineTensor(fixture.tensors.get(`case${i}.${k}`)!);
      const params = { zeta, layout: 'nchw' as const };
      const y = engine.pixForward(get('x'), get('p'), params);
      assertClose(floats(y), fixture.tensors.get(`case${i}.y`)!.data as Float32Array, 'y');
      const { dx, dp } = engine.pixBackward(get('x'), get('p'), get('dy'), params);
      assertClose(floats(dx!), fixture.tensors.get(`case${i}.dx`)!.data as Float32Array, 'dx');
      assertClose(floats(dp!), fixture.tensors.get(`case${i}.dp`)!.data as Float32Array, 'dp');
    });
  });
});
