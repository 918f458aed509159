// dispose() on cuda:0, measured with the caching allocator's count of bytes in live tensors
// (cudaMemoryStats.allocatedBytes): a model, its optimizer and an EMA after a training step hold
// device memory, and disposing them gives all of it back, in either order. With the model disposed
// first, its optimizer keeps the shared parameters until it is disposed too; a tensor handed to JS
// (a gate's values) keeps its own block until it is disposed. Skips, printing why, without a CUDA
// device.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadEngine, type Model } from '../../../electron/host/engine/addon';
import { cudaSkipReason } from '../../helpers/cuda';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Model: M, Optimizer, ModelEma, Tensor: T } = engine;
const DEVICE = 'cuda:0';
const CLASSES = 5;
const BATCH = 2;
const SIZE = 16;

const allocated = () => engine.cudaMemoryStats(0).allocatedBytes;

/** A training forward and backward on the device; every tensor it makes on the way is disposed. */
async function accumulate(model: Model): Promise<void> {
  const x = T.fromArray(Float32Array.from({ length: BATCH * 3 * SIZE * SIZE }, (_, i) => Math.sin(i)), [BATCH, 3, SIZE, SIZE], 'f32', DEVICE);
  const dlogits = T.fromArray(Float32Array.from({ length: BATCH * CLASSES }, (_, i) => (i % 3) - 1), [BATCH, CLASSES], 'f32', DEVICE);
  const logits = await model.forward(x, { train: true });
  await model.backward(dlogits);
  for (const t of [x, dlogits, logits]) t.dispose();
}

/** A model with gradients, an optimizer with its slots and an EMA, all on the device. */
async function trained() {
  const model = new M('pix_resnet_tiny_cs', { numClasses: CLASSES, device: DEVICE });
  const optimizer = new Optimizer(model, { type: 'adamw' });
  const ema = new ModelEma(model, { decay: 0.9 });
  await accumulate(model);
  optimizer.step({ lr: 0.01, weightDecay: 0.05 });
  ema.update(model);
  return { model, optimizer, ema };
}

describe('dispose on CUDA', { skip }, () => {
  // One run first, so that whatever the kernels' libraries keep for the process (workspaces, plans)
  // is there before the measured runs.
  before(async () => {
    const warm = await trained();
    for (const object of [warm.ema, warm.optimizer, warm.model]) object.dispose();
  });

  it('gives every byte back: EMA, then the model (kept by its optimizer), then the optimizer', async () => {
    const baseline = allocated();

    const { model, optimizer, ema } = await trained();
    const gates = model.lastGates();
    assert.ok(gates.length > 0);
    const afterStep = allocated();
    assert.ok(afterStep > baseline, `a trained model holds device memory: ${afterStep} <= ${baseline}`);

    ema.dispose();
    const withoutEma = allocated();
    assert.ok(withoutEma < afterStep, `the EMA's averages go back: ${withoutEma} >= ${afterStep}`);

    model.dispose();
    assert.equal(allocated(), withoutEma, 'the optimizer keeps the model it steps');

    optimizer.dispose();
    const withGates = allocated();
    assert.ok(withGates > baseline, 'the gate tensors handed to JS keep their blocks');
    assert.ok(gates.every((g) => g.values.toArray().length === BATCH * g.values.shape[1]!));
    for (const g of gates) g.values.dispose();
    assert.equal(allocated(), baseline, `bytes before ${baseline}, after ${allocated()}`);
    console.log(`# allocatedBytes: ${baseline} before, ${afterStep} after a step, ${withoutEma} without the EMA, ` +
      `${withGates} with only the gates left, ${allocated()} after all`);
  });

  it('gives every byte back with the optimizer disposed first', async () => {
    const baseline = allocated();
    const { model, optimizer, ema } = await trained();
    const afterStep = allocated();
    optimizer.dispose();
    const withoutOptimizer = allocated();
    assert.ok(withoutOptimizer < afterStep, `AdamW's moments go back: ${withoutOptimizer} >= ${afterStep}`);
    model.dispose();
    ema.dispose();
    assert.equal(allocated(), baseline, `bytes before ${baseline}, after ${allocated()}`);
  });
});
