// Models without PyTorch: the registry, exact parameter counts, the official state-dict keys and
// shapes, the PyTorch-layout round trip of every entry, argument errors, and the per-part profile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine } from '../../../electron/host/engine/addon';
import { floats } from '../../helpers/compare';

const engine = loadEngine();
const { Model, Tensor } = engine;

describe('model registry', () => {
  it('builds the official networks with their exact parameter counts', () => {
    assert.equal(new Model('pix_resnet50_cs').parameterCount, 25_549_480);
    assert.equal(new Model('resnet50').parameterCount, 25_557_032);
  });

  it('accepts the official aliases, case-insensitively', () => {
    assert.equal(new Model('PiXResNet50_cs').name, 'pix_resnet50_cs');
    assert.equal(new Model('RESNET50').name, 'resnet50');
    const names = engine.modelRegistry().map((m) => m.name);
    for (const n of ['pix_resnet50_cs', 'pix_resnet101_cs', 'pix_resnet152_cs', 'resnet50', 'resnet101', 'resnet152']) {
      assert.ok(names.includes(n), n);
    }
  });

  it('drops about 0.94 GMACs of ResNet-50 (the 16 first 1x1 convolutions)', () => {
    const saved = new Model('resnet50').macs(224) - new Model('pix_resnet50_cs').macs(224);
    assert.ok(saved > 0.9e9 && saved < 0.97e9, `saved ${saved}`);
  });

  it('names unknown models and bad options', () => {
    assert.throws(() => new Model('resnet51'), /unknown model 'resnet51' \(valid: .*resnet50/);
    assert.throws(() => new Model('resnet50', { numClasses: -3 }), /numClasses must be a positive integer/);
    assert.throws(() => new Model('resnet50', { drop: 1.5 }), /drop must be in \[0, 1\)/);
  });
});

describe('state dict', () => {
  it('uses the official PiX key names and PyTorch shapes', () => {
    const entries = new Model('pix_resnet50_cs', { numClasses: 7 }).stateEntries();
    const byKey = new Map(entries.map((e) => [e.key, e]));
    assert.equal(entries[0]!.key, 'conv_stem.weight');
    assert.deepEqual(byKey.get('conv_stem.weight')!.shape, [64, 3, 7, 7]);
    assert.deepEqual(byKey.get('layer1.blocks.0.conv_sqz.weight')!.shape, [64, 64, 1, 1]);
    assert.deepEqual(byKey.get('layer2.blocks.0.conv_sqz.weight')!.shape, [128, 256, 1, 1]);
    assert.deepEqual(byKey.get('layer2.blocks.1.conv_ce.weight')!.shape, [128, 128, 3, 3]);
    assert.deepEqual(byKey.get('layer4.blocks.0.conv_proj.weight')!.shape, [2048, 1024, 1, 1]);
    assert.equal(byKey.has('layer4.blocks.1.conv_proj.weight'), false);
    assert.deepEqual(byKey.get('classifier.weight')!.shape, [7, 2048, 1, 1]);
    assert.equal(byKey.get('bn_stem.num_batches_tracked')!.dtype, 'i64');
    assert.equal(byKey.get('bn_stem.running_var')!.parameter, false);
  });

  it('uses the torchvision key names for ResNet', () => {
    const keys = new Model('resnet50').stateEntries().map((e) => e.key);
    for (const k of ['conv1.weight', 'bn1.running_mean', 'layer1.0.downsample.0.weight', 'layer1.0.downsample.1.weight',
      'layer3.5.conv2.weight', 'fc.weight', 'fc.bias']) assert.ok(keys.includes(k), k);
    assert.equal(keys.includes('layer1.1.downsample.0.weight'), false);
  });

  it('round-trips every entry through the PyTorch layout', () => {
    const model = new Model('pix_resnet_tiny_cs');
    for (const entry of model.stateEntries()) {
      const value = model.getState(entry.key);
      assert.deepEqual(value.shape, entry.shape);
      if (entry.dtype === 'i64') continue;
      const numel = entry.shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: numel }, (_, i) => i - numel / 2);
      model.setState(entry.key, Tensor.fromArray(data, entry.shape));
      assert.deepEqual(Array.from(floats(model.getState(entry.key))), Array.from(data), entry.key);
    }
  });

  it('names a mismatched shape or dtype, and unknown keys', () => {
    const model = new Model('resnet_tiny');
    assert.throws(() => model.setState('conv1.weight', Tensor.zeros([16, 3, 7, 7])),
      /'conv1.weight' has shape \(16,3,7,7\), the model expects \(16,3,3,3\)/);
    assert.throws(() => model.setState('bn1.num_batches_tracked', Tensor.zeros([])), /is f32, the model expects i64/);
    assert.throws(() => model.getState('conv9.weight'), /'conv9.weight' is not a key of resnet_tiny/);
  });
});

describe('forward and backward', () => {
  const x = Tensor.fromArray(Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.sin(i)), [2, 3, 16, 16]);

  it('gives the same logits from NCHW and NHWC input', async () => {
    const model = new Model('pix_resnet_tiny_cs');
    const nchw = floats(await model.forward(x));
    const data = floats(x);
    const nhwc = new Float32Array(data.length);
    for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++)
      nhwc[(n * 256 + p) * 3 + c] = data[(n * 3 + c) * 256 + p]!;
    const other = floats(await model.forward(Tensor.fromArray(nhwc, [2, 16, 16, 3]), { layout: 'nhwc' }));
    assert.deepEqual(Array.from(other), Array.from(nchw));
  });

  it('refuses bad input and a backward without a training forward', async () => {
    const model = new Model('resnet_tiny');
    await assert.rejects(async () => model.forward(Tensor.zeros([2, 4, 16, 16])), /x must have 3 colour channels, got 4/);
    await assert.rejects(async () => model.forward(Tensor.zeros([2, 3, 16])), /x must be 4-D images/);
    await model.forward(x);
    await assert.rejects(model.backward(Tensor.zeros([2, 10])), /backward needs a training-mode forward first/);
    await model.forward(x, { train: true });
    await assert.rejects(model.backward(Tensor.zeros([3, 10])), /dlogits must be \(2,10\)/);
  });

  it('refuses a second call while one runs', async () => {
    const model = new Model('resnet_tiny');
    const first = model.forward(x);
    assert.throws(() => model.forward(x), /the model is busy/);
    await first;
  });

  it('with dropout, is reproducible from its seed', async () => {
    const model = new Model('pix_resnet_tiny_cs', { drop: 0.5 });
    const a = floats(await model.forward(x, { train: true, dropout: true, seed: 3 }));
    const b = floats(await model.forward(x, { train: true, dropout: true, seed: 3 }));
    const c = floats(await model.forward(x, { train: true, dropout: true, seed: 4 }));
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
  });
});

describe('profile', () => {
  const x = Tensor.fromArray(Float32Array.from({ length: 2 * 3 * 16 * 16 }, (_, i) => Math.cos(i)), [2, 3, 16, 16]);

  it('times the stem, every block under its state-dict prefix and the head, forward and backward', async () => {
    const model = new Model('resnet_tiny');
    assert.deepEqual(model.profile(), [], 'nothing is timed before profiling is on');
    await model.forward(x, { train: true });
    model.setProfiling(true);
    const start = process.hrtime.bigint();
    const logits = await model.forward(x, { train: true });
    const forwardSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    await model.backward(Tensor.fromArray(new Float32Array(logits.numel).fill(0.1), logits.shape));
    const parts = model.profile();
    const blocks = [...new Set(model.stateEntries().map((e) => /^layer\d\.\d+/.exec(e.key)?.[0]).filter((k) => k !== undefined))];
    assert.deepEqual(parts.map((p) => p.name), ['stem', ...blocks, 'head']);
    for (const p of parts) {
      assert.deepEqual([p.forwards, p.backwards], [1, 1], p.name);
      assert.ok(p.forwardSeconds > 0 && p.backwardSeconds > 0, `${p.name} has no time`);
    }
    // The parts are disjoint pieces of the one forward call.
    assert.ok(parts.reduce((sum, p) => sum + p.forwardSeconds, 0) <= forwardSeconds);

    await model.forward(x);  // evaluation (BatchNorm folded) counts as a forward
    assert.ok(model.profile().every((p) => p.forwards === 2 && p.backwards === 1));
    model.setProfiling(true);
    assert.ok(model.profile().every((p) => p.forwards === 0 && p.forwardSeconds === 0), 'turning it on again clears it');
    model.setProfiling(false);
    assert.deepEqual(model.profile(), []);
  });

  it("names PiX blocks by the official keys, and refuses a bad switch or a busy model", async () => {
    const model = new Model('pix_resnet_tiny_cs');
    model.setProfiling(true);
    assert.match(model.profile()[1]!.name, /^layer1\.blocks\.0$/);
    assert.throws(() => model.setProfiling('yes' as unknown as boolean), /setProfiling: on must be a boolean/);
    const running = model.forward(x);
    assert.throws(() => model.profile(), /the model is busy/);
    await running;
    assert.equal(model.profile()[0]!.forwards, 1);
  });
});
