// Whole networks on CUDA against the same networks on the CPU: a training forward (logits, BatchNorm
// running statistics), the backward (every parameter's gradient) and one optimizer step (every
// state entry after it), for both families and both stems; then SGD, AdamW, LAMB and the EMA on
// identical gradients; then bf16 activations. f32 agrees within 1e-4 of each tensor's scale (a
// dozen layers of differently ordered f32 sums); bf16 within 5e-2. Skips, printing why, where no
// CUDA device is usable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type Model, type OptimizerType, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import { randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T, Model: M, Optimizer, ModelEma } = engine;

const F32_TOLERANCE = 1e-4;
const BF16_TOLERANCE = 5e-2;
const BATCH = 4;

function assertClose(name: string, cuda: Tensor, cpu: Tensor, tolerance: number): void {
  assert.deepEqual(cuda.shape, cpu.shape, `${name}: shape`);
  const error = maxRelativeError(floats(cuda), floats(cpu));
  assert.ok(error <= tolerance, `${name}: max relative error ${error.toExponential(2)} > ${tolerance}`);
}

function images(seed: number, size: number): Tensor {
  return T.fromArray(Float32Array.from(randomValues(rng(seed), BATCH * 3 * size * size)), [BATCH, 3, size, size]);
}

/** The loss gradient the trainer would compute on the host: BCE against one-hot targets. */
function lossGradient(logits: Tensor, classes: number): Tensor {
  const labels = T.fromArray(BigInt64Array.from({ length: BATCH }, (_, i) => BigInt(i % classes)), [BATCH]);
  return engine.binaryCrossEntropy(logits.to('cpu'), engine.smoothOneHot(labels, classes, 0.1)).dlogits;
}

function pair(name: string, activations: 'f32' | 'bf16' = 'f32'): { cpu: Model; cuda: Model } {
  return { cpu: new M(name, { seed: 7 }), cuda: new M(name, { seed: 7, device: 'cuda', activations }) };
}

function floatingKeys(model: Model, parametersOnly = false): string[] {
  return model.stateEntries().filter((e) => e.dtype === 'f32' && (!parametersOnly || e.parameter)).map((e) => e.key);
}

describe('model on CUDA vs CPU', { skip }, () => {
  const cases = [
    { name: 'pix_resnet_tiny_cs', size: 32 },
    { name: 'resnet_tiny', size: 32 },
    { name: 'pix_resnet_small_cs', size: 64 },  // ImageNet stem: 7x7/2 conv and max pooling
  ];
  for (const { name, size } of cases) {
    it(`${name}: forward, backward and one LAMB step`, async () => {
      const { cpu, cuda } = pair(name);
      assert.equal(cuda.device, 'cuda:0');
      const x = images(1, size);
      const logits = { cpu: await cpu.forward(x, { train: true }), cuda: await cuda.forward(x, { train: true }) };
      assert.equal(logits.cuda.device, 'cuda:0');
      assertClose('logits', logits.cuda, logits.cpu, F32_TOLERANCE);
      const dlogits = lossGradient(logits.cpu, cpu.numClasses);
      await cpu.backward(dlogits);
      await cuda.backward(dlogits);
      for (const key of floatingKeys(cpu, true)) assertClose(`grad ${key}`, cuda.getGrad(key), cpu.getGrad(key), F32_TOLERANCE);
      const step = { lr: 1e-2, weightDecay: 0.05 };
      const norms = [cpu, cuda].map((m) => new Optimizer(m, { type: 'lamb' }).step(step).gradNorm);
      assert.ok(Math.abs(norms[1] - norms[0]) <= F32_TOLERANCE * norms[0], `gradient norm ${norms[1]} vs ${norms[0]}`);
      for (const key of floatingKeys(cpu)) assertClose(key, cuda.getState(key), cpu.getState(key), F32_TOLERANCE);
      assert.deepEqual(cuda.getState(`${name.startsWith('pix') ? 'bn_stem' : 'bn1'}.num_batches_tracked`).toArray(),
        BigInt64Array.of(1n));
      const evalLogits = [await cpu.forward(x), await cuda.forward(x)];
      assertClose('eval logits after the step', evalLogits[1], evalLogits[0], F32_TOLERANCE);
    });
  }
});

describe('optimizers and EMA on CUDA parameters vs CPU', { skip }, () => {
  const types: OptimizerType[] = ['sgd', 'momentum', 'adamw', 'lamb'];
  for (const type of types) {
    it(`${type}: three steps on identical gradients (clipping on), then the EMA`, () => {
      const { cpu, cuda } = pair('pix_resnet_tiny_cs');
      const emas = [new ModelEma(cpu, { decay: 0.9 }), new ModelEma(cuda, { decay: 0.9 })];
      const opts = [new Optimizer(cpu, { type }), new Optimizer(cuda, { type })];
      const entries = cpu.stateEntries().filter((e) => e.parameter);
      for (let step = 0; step < 3; step++) {
        entries.forEach((e, i) => {
          const count = e.shape.reduce((a, b) => a * b, 1);
          const grad = T.fromArray(Float32Array.from(randomValues(rng(1000 * step + i), count)), e.shape);
          cpu.setGrad(e.key, grad);
          cuda.setGrad(e.key, grad);
        });
        const stepOptions = { lr: 0.05, weightDecay: 0.1, clipGrad: step === 1 ? 1 : null };
        const norms = opts.map((o) => o.step(stepOptions).gradNorm);
        assert.ok(Math.abs(norms[1] - norms[0]) <= 1e-6 * norms[0], `step ${step}: norm ${norms[1]} vs ${norms[0]}`);
        emas[0].update(cpu);
        emas[1].update(cuda);
      }
      for (const key of floatingKeys(cpu)) assertClose(key, cuda.getState(key), cpu.getState(key), 1e-5);
      const slots = [opts[0].stateDict(), opts[1].stateDict()];
      for (const [slot, value] of Object.entries(slots[0])) {
        if (value.dtype !== 'f32') continue;
        assertClose(`optimizer ${slot}`, slots[1][slot], value, 1e-5);
      }
      emas[0].copyTo(cpu);
      emas[1].copyTo(cuda);
      for (const key of floatingKeys(cpu)) assertClose(`ema ${key}`, cuda.getState(key), cpu.getState(key), 1e-5);
    });
  }
});

describe('bf16 activations on CUDA vs the f32 CPU model', { skip }, () => {
  it('pix_resnet_tiny_cs: logits, gradients and a LAMB step within bf16 rounding', async () => {
    const { cpu, cuda } = pair('pix_resnet_tiny_cs', 'bf16');
    assert.equal(cuda.activations, 'bf16');
    const x = images(2, 32);
    const logits = [await cpu.forward(x, { train: true }), await cuda.forward(x, { train: true })];
    assert.equal(logits[1].dtype, 'f32');
    assertClose('logits', logits[1], logits[0], BF16_TOLERANCE);
    const dlogits = lossGradient(logits[0], cpu.numClasses);
    await cpu.backward(dlogits);
    await cuda.backward(dlogits);
    for (const key of ['conv_stem.weight', 'layer1.blocks.0.conv_ce.weight', 'classifier.weight', 'classifier.bias'])
      assertClose(`grad ${key}`, cuda.getGrad(key), cpu.getGrad(key), BF16_TOLERANCE);
    const step = { lr: 1e-2, weightDecay: 0.05 };
    new Optimizer(cpu, { type: 'lamb' }).step(step);
    new Optimizer(cuda, { type: 'lamb' }).step(step);
    assert.equal(cuda.getState('conv_stem.weight').dtype, 'f32');
    assertClose('conv_stem.weight after the step', cuda.getState('conv_stem.weight'), cpu.getState('conv_stem.weight'),
      BF16_TOLERANCE);
  });
});

describe('model placement errors', () => {
  it('refuses bf16 activations on the CPU and an unknown device, naming them', () => {
    assert.throws(() => new M('resnet_tiny', { activations: 'bf16' }), /bf16 activations need a CUDA device/);
    assert.throws(() => new M('resnet_tiny', { device: 'tpu' }), /unknown device 'tpu'/);
    assert.throws(() => new M('resnet_tiny', { activations: 'f16' as 'f32' }), /activations must be 'f32' or 'bf16'/);
  });
});
