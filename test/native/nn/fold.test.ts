// Evaluation on the CPU with BatchNorm folded into the convolutions (nn/layers.h, ConvBn::infer):
// the same logits as BatchNorm kept as a layer (foldBatchNorm: false) on every small network with
// non-trivial statistics, and never stale: after each way the state can change between two
// evaluations (setState, a training forward's statistics update, an optimizer step, an EMA copy)
// the folded logits follow. (The PyTorch conformance tests run the folded path too.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Model as EngineModel } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { randomValues, rng } from '../../helpers/random';
import { randomizeState } from '../../helpers/random_state';

const engine = loadEngine();
const { Model, Optimizer, ModelEma, Tensor } = engine;
const TOLERANCE = 1e-5;

function images(seed: number, size: number) {
  return Tensor.fromArray(Float32Array.from(randomValues(rng(seed), 2 * 3 * size * size)), [2, 3, size, size]);
}

async function assertFoldedMatches(model: EngineModel, x: ReturnType<typeof images>, what: string) {
  const folded = floats(await model.forward(x));
  const unfolded = floats(await model.forward(x, { foldBatchNorm: false }));
  const error = maxRelativeError(folded, unfolded);
  assert.ok(error <= TOLERANCE, `${what}: folded vs BatchNorm layers ${error.toExponential(2)}`);
  return folded;
}

function changed(before: ArrayLike<number>, after: ArrayLike<number>, what: string) {
  assert.ok(maxRelativeError(after, before) > 1e-3, `${what}: the logits did not change`);
}

const SIZES: Record<string, number> = { pix_resnet_tiny_cs: 16, resnet_tiny: 16, pix_resnet_small_cs: 32, resnet_small: 32 };

for (const [name, size] of Object.entries(SIZES)) {
  describe(`${name}: folded BatchNorm in evaluation`, () => {
    it('gives the logits of BatchNorm as a layer', async () => {
      const model = new Model(name);
      randomizeState(model, 1);
      await assertFoldedMatches(model, images(2, size), 'random state');
    });
  });
}

describe('folded weights are recomputed whenever the state changes', () => {
  const x = images(3, 16);

  it('after setState of a weight, a BatchNorm parameter or a statistic', async () => {
    const model = new Model('pix_resnet_tiny_cs');
    randomizeState(model, 4);
    let before = await assertFoldedMatches(model, x, 'start');
    for (const key of ['layer1.blocks.1.conv_exp.weight', 'layer2.blocks.0.bn_ce.weight', 'bn_stem.bias',
      'layer1.blocks.0.bn_proj.running_mean', 'layer3.blocks.0.bn_exp.running_var']) {
      const shape = model.getState(key).shape;
      const scaled = Float32Array.from(floats(model.getState(key)), (v) => v * 1.7 + 0.2);
      model.setState(key, Tensor.fromArray(scaled, shape));
      const after = await assertFoldedMatches(model, x, key);
      changed(before, after, key);
      before = after;
    }
  });

  it('after a training forward updates the running statistics', async () => {
    const model = new Model('resnet_tiny');
    randomizeState(model, 5);
    const before = await assertFoldedMatches(model, x, 'start');
    await model.forward(images(6, 16), { train: true });
    changed(before, await assertFoldedMatches(model, x, 'after a training forward'), 'training forward');
  });

  it('after an optimizer step', async () => {
    const model = new Model('pix_resnet_tiny_cs');
    randomizeState(model, 7);
    const before = await assertFoldedMatches(model, x, 'start');
    await model.forward(x, { train: true });
    await model.backward(Tensor.fromArray(Float32Array.from(randomValues(rng(8), 20)), [2, 10]));
    new Optimizer(model, { type: 'sgd' }).step({ lr: 0.5, weightDecay: 0 });
    changed(before, await assertFoldedMatches(model, x, 'after a step'), 'optimizer step');
  });

  it('after each of several changes to a layer, a gate or the classifier, at two batch sizes (packed panels kept meanwhile)', async () => {
    // Inference keeps the SGEMM panels of each folded weight, gate weight and the classifier, one
    // set per layout (the layout follows the batch size), until the weight changes (a refold, or a
    // write to the state entry); a pass over kept panels must give the logits of the pass that
    // packed them.
    const model = new Model('pix_resnet_tiny_cs');
    randomizeState(model, 11);
    const one = Tensor.fromArray(Float32Array.from(floats(x).slice(0, 3 * 16 * 16)), [1, 3, 16, 16]);
    const keys = ['layer1.blocks.1.conv_exp.weight', 'layer2.blocks.0.conv_sqz.weight', 'classifier.weight'];
    let before = await assertFoldedMatches(model, x, 'start');
    await assertFoldedMatches(model, one, 'start, 1 image');
    for (let change = 0; change < 6; change++) {
      const key = keys[change % keys.length]!;
      const shape = model.getState(key).shape;
      model.setState(key, Tensor.fromArray(Float32Array.from(floats(model.getState(key)), (v) => v * 1.3 + 0.05), shape));
      const after = await assertFoldedMatches(model, x, `${key}, change ${change}, 2 images`);
      await assertFoldedMatches(model, one, `${key}, change ${change}, 1 image`);
      assert.deepEqual(floats(await model.forward(x)), after, `${key}: a second pass over the kept panels differs`);
      changed(before, after, key);
      before = after;
    }
  });

  it('after an EMA is copied in', async () => {
    const model = new Model('resnet_tiny');
    randomizeState(model, 9);
    const ema = new ModelEma(model, { decay: 0.5 });
    const before = await assertFoldedMatches(model, x, 'start');
    randomizeState(model, 10);
    ema.update(model);
    ema.copyTo(model);
    changed(before, await assertFoldedMatches(model, x, 'after the EMA copy'), 'EMA copy');
  });
});
