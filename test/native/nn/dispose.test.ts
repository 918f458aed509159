// Model, Optimizer and ModelEma dispose() on the CPU: every later call throws naming the method, a
// second dispose does nothing, and the sharing between a model and its optimizer behaves as
// binding/js_model.cc describes: the optimizer keeps the model's parameters (and steps them) until
// it is disposed too, and disposing the optimizer leaves the model as it was. Tensors handed out
// before stay readable. The CUDA allocator's side is dispose.cuda.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Model, type Tensor } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';

const { Model: M, Optimizer, ModelEma, Tensor: T } = loadEngine();
const CLASSES = 5;
const BATCH = 2;

function images(): Tensor {
  return T.fromArray(Float32Array.from({ length: BATCH * 3 * 16 * 16 }, (_, i) => Math.sin(i)), [BATCH, 3, 16, 16]);
}

/** A training forward and backward, leaving gradients in the model. */
async function accumulate(model: Model): Promise<void> {
  await model.forward(images(), { train: true });
  await model.backward(T.fromArray(Float32Array.from({ length: BATCH * CLASSES }, (_, i) => (i % 3) - 1), [BATCH, CLASSES]));
}

describe('Model.dispose', () => {
  it('makes every later call throw, naming the method', async () => {
    const model = new M('resnet_tiny', { numClasses: CLASSES });
    model.dispose();
    const calls: [string, () => unknown][] = [
      ['name', () => model.name], ['numClasses', () => model.numClasses], ['family', () => model.family],
      ['parameterCount', () => model.parameterCount], ['device', () => model.device], ['activations', () => model.activations],
      ['macs', () => model.macs(32)], ['stateEntries', () => model.stateEntries()], ['getState', () => model.getState('fc.bias')],
      ['setState', () => model.setState('fc.bias', T.zeros([CLASSES]))], ['getGrad', () => model.getGrad('fc.bias')],
      ['setGrad', () => model.setGrad('fc.bias', T.zeros([CLASSES]))], ['zeroGrad', () => model.zeroGrad()],
      ['lastGates', () => model.lastGates()], ['setProfiling', () => model.setProfiling(true)], ['profile', () => model.profile()],
      ['forward', () => model.forward(images())], ['backward', () => model.backward(T.zeros([BATCH, CLASSES]))],
    ];
    for (const [method, call] of calls) assert.throws(call, new RegExp(`^Error: Model\\.${method}: the model was disposed$`), method);
    assert.throws(() => new Optimizer(model, { type: 'sgd' }), /new Optimizer: the model was disposed/);
    assert.throws(() => new ModelEma(model), /new ModelEma: the model was disposed/);
  });

  it('does nothing the second time', () => {
    const model = new M('resnet_tiny');
    model.dispose();
    model.dispose();
    assert.throws(() => model.name, /Model\.name: the model was disposed/);
  });

  it('leaves tensors handed out before readable', async () => {
    const model = new M('pix_resnet_tiny_cs', { numClasses: CLASSES });
    const logits = await model.forward(images());
    const gates = model.lastGates();
    const bias = model.getState('classifier.bias');
    const expected = [floats(logits), ...gates.map((g) => floats(g.values)), floats(bias)];
    assert.ok(gates.length > 0);
    model.dispose();
    assert.deepEqual([floats(logits), ...gates.map((g) => floats(g.values)), floats(bias)], expected);
  });

  it('lets a forward in flight finish', async () => {
    const model = new M('resnet_tiny', { numClasses: CLASSES });
    const pending = model.forward(images());
    model.dispose();
    assert.deepEqual((await pending).shape, [BATCH, CLASSES]);
    assert.throws(() => model.forward(images()), /Model\.forward: the model was disposed/);
  });
});

describe('Optimizer.dispose', () => {
  it('makes every later call throw and does nothing the second time', () => {
    const model = new M('resnet_tiny', { numClasses: CLASSES });
    const optimizer = new Optimizer(model, { type: 'adamw' });
    optimizer.dispose();
    optimizer.dispose();
    const calls: [string, () => unknown][] = [
      ['step', () => optimizer.step({ lr: 0.1 })], ['stateDict', () => optimizer.stateDict()],
      ['loadStateDict', () => optimizer.loadStateDict({})], ['stepCount', () => optimizer.stepCount], ['type', () => optimizer.type],
    ];
    for (const [method, call] of calls) {
      assert.throws(call, new RegExp(`^Error: Optimizer\\.${method}: the optimizer was disposed$`), method);
    }
  });

  it('leaves its model as it was, training on with a new optimizer', async () => {
    const model = new M('resnet_tiny', { numClasses: CLASSES });
    const optimizer = new Optimizer(model, { type: 'sgd' });
    await accumulate(model);
    optimizer.step({ lr: 0.1 });
    const weights = floats(model.getState('fc.weight'));
    const grad = floats(model.getGrad('fc.weight'));
    optimizer.dispose();
    assert.deepEqual(floats(model.getState('fc.weight')), weights);
    assert.deepEqual(floats(model.getGrad('fc.weight')), grad);
    model.zeroGrad();
    await accumulate(model);
    new Optimizer(model, { type: 'sgd' }).step({ lr: 0.1 });
    assert.notDeepEqual(floats(model.getState('fc.weight')), weights);
  });

  it('keeps stepping the parameters of a model disposed before it', async () => {
    const model = new M('resnet_tiny', { numClasses: CLASSES });
    const optimizer = new Optimizer(model, { type: 'momentum', momentum: 0.9 });
    await accumulate(model);
    const grad = floats(model.getGrad('fc.weight'));
    model.dispose();
    // The first momentum step stores the gradient as the buffer: the gradients outlived the model object.
    assert.ok(optimizer.step({ lr: 0.1 }).gradNorm > 0);
    assert.equal(optimizer.stepCount, 1);
    assert.deepEqual(floats(optimizer.stateDict()['momentum_buffer.fc.weight']!), grad);
    optimizer.dispose();
  });
});

describe('ModelEma.dispose', () => {
  it('makes every later call throw, does nothing the second time, and leaves the model as it was', () => {
    const model = new M('resnet_tiny', { numClasses: CLASSES });
    const ema = new ModelEma(model, { decay: 0.5 });
    ema.dispose();
    ema.dispose();
    const calls: [string, () => unknown][] = [
      ['update', () => ema.update(model)], ['copyTo', () => ema.copyTo(model)], ['stateDict', () => ema.stateDict()],
      ['loadStateDict', () => ema.loadStateDict({})], ['decay', () => ema.decay],
    ];
    for (const [method, call] of calls) assert.throws(call, new RegExp(`^Error: ModelEma\\.${method}: the EMA was disposed$`), method);
    assert.equal(model.name, 'resnet_tiny');
    const other = new ModelEma(model, { decay: 0.5 });
    model.dispose();
    assert.throws(() => other.update(model), /ModelEma\.update: the model was disposed/);
    assert.ok(Object.keys(other.stateDict()).length > 0);
  });
});
