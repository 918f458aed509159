// Evaluation on CUDA with BatchNorm folded into the convolutions (nn/layers.h, ConvBn::infer), each
// ending in cuDNN's fused bias (+ residual) + ReLU call where it runs, else in the engine's epilogue
// pass: the logits of BatchNorm kept as a layer (foldBatchNorm: false) for both families and
// stems, in f32 and bf16, on every convolution path; never stale after the state changes, with the
// evaluation replayed as a CUDA graph meanwhile; and the CPU's folded logits. Skips, saying why,
// without a CUDA device.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadEngine, type CudaConvSettings, type Model as EngineModel, type Tensor } from '../../../electron/host/engine/addon';
import { floats, maxRelativeError } from '../../helpers/compare';
import { cudaSkipReason } from '../../helpers/cuda';
import { withConvSettings as withSettings } from '../../helpers/cuda_conv';
import { randomValues, rng } from '../../helpers/random';
import { randomizeState } from '../../helpers/random_state';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Model, Optimizer, Tensor: T } = engine;

type DType = 'f32' | 'bf16';
// f32: folding rounds w * s once where BatchNorm as a layer scales each sum (1e-6 each, a dozen
// layers deep). bf16: the folded weight and bias are rounded to bf16, and each layer's output once
// less or more than with BatchNorm as a layer (4e-3 each).
const TOLERANCE: Record<DType, number> = { f32: 1e-4, bf16: 0.1 };

function images(seed: number, size: number, device: 'cpu' | 'cuda' = 'cuda'): Tensor {
  return T.fromArray(Float32Array.from(randomValues(rng(seed), 2 * 3 * size * size)), [2, 3, size, size], 'f32', device);
}

async function assertFoldedMatches(model: EngineModel, x: Tensor, dtype: DType, what: string): Promise<number[]> {
  const folded = [...floats(await model.forward(x))];
  const unfolded = floats(await model.forward(x, { foldBatchNorm: false }));
  const error = maxRelativeError(folded, unfolded);
  assert.ok(error <= TOLERANCE[dtype], `${what}: folded vs BatchNorm layers ${error.toExponential(2)}`);
  return folded;
}

const SIZES: Record<string, number> = { pix_resnet_tiny_cs: 16, resnet_tiny: 16, pix_resnet_small_cs: 32, resnet_small: 32 };
const PATHS: [string, Partial<CudaConvSettings>][] = [
  ["cuDNN's fused call", { backend: 'auto', fused: true }],
  ['the epilogue pass', { backend: 'auto', fused: false }],
  ['the own convolution', { backend: 'own' }],
];

describe('CUDA evaluation with BatchNorm folded', { skip }, () => {
  for (const [name, size] of Object.entries(SIZES)) {
    for (const dtype of ['f32', 'bf16'] as const) {
      it(`${name}, ${dtype}: the logits of BatchNorm as a layer on every convolution path`, async () => {
        const model = new Model(name, { device: 'cuda', activations: dtype });
        randomizeState(model, 1);
        const x = images(2, size);
        const results: number[][] = [];
        for (const [path, settings] of PATHS)
          results.push(await withSettings(settings, () => assertFoldedMatches(model, x, dtype, path)));
        for (let i = 1; i < results.length; i++) {
          const error = maxRelativeError(results[i]!, results[0]!);
          assert.ok(error <= TOLERANCE[dtype], `${PATHS[i]![0]} vs ${PATHS[0]![0]}: ${error.toExponential(2)}`);
        }
      });
    }
  }

  it("f32: the CPU's folded logits", async () => {
    const cuda = new Model('pix_resnet_small_cs', { device: 'cuda' });
    const cpu = new Model('pix_resnet_small_cs');
    randomizeState(cuda, 3);
    randomizeState(cpu, 3);
    const error = maxRelativeError(floats(await cuda.forward(images(4, 32))), floats(await cpu.forward(images(4, 32, 'cpu'))));
    assert.ok(error <= TOLERANCE.f32, `CUDA vs CPU: ${error.toExponential(2)}`);
  });

  it('follows every change of the state, replaying CUDA graphs meanwhile', async () => {
    const model = new Model('pix_resnet_tiny_cs', { device: 'cuda', activations: 'bf16' });
    randomizeState(model, 5);
    const x = images(6, 16);
    const graphs = engine.cudaGraphStats();
    let before = await assertFoldedMatches(model, x, 'bf16', 'start');
    assert.deepEqual([...floats(await model.forward(x))], before, 'a replay differs from the forward it captured');
    const changes: [string, () => Promise<void>][] = [
      ['setState of a BatchNorm statistic', async () => {
        const key = 'layer2.blocks.0.bn_ce.running_var';
        const value = model.getState(key);
        model.setState(key, T.fromArray(Float32Array.from(floats(value), (v) => v * 2.5), value.shape, 'f32', 'cuda'));
      }],
      ['a training forward', async () => { await model.forward(images(7, 16), { train: true }); }],
      ['an optimizer step', async () => {
        await model.forward(x, { train: true });
        await model.backward(T.fromArray(Float32Array.from(randomValues(rng(8), 20)), [2, 10], 'f32', 'cuda'));
        new Optimizer(model, { type: 'sgd' }).step({ lr: 0.5, weightDecay: 0 });
      }],
    ];
    for (const [what, change] of changes) {
      await change();
      const after = await assertFoldedMatches(model, x, 'bf16', what);
      assert.ok(maxRelativeError(after, before) > 1e-3, `${what}: the folded logits did not change`);
      assert.deepEqual([...floats(await model.forward(x))], after, `${what}: a replay differs`);
      before = after;
    }
    const stats = engine.cudaGraphStats();
    const graphsOn = engine.setCudaGraphs({}).enabled;
    if (graphsOn && stats.failures === graphs.failures) assert.ok(stats.replays > graphs.replays, 'no evaluation was replayed');
  });
});
