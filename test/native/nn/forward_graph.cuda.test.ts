// Evaluation forwards on CUDA replayed as CUDA graphs (nn/model.h, core/cuda/graph.h) against the
// same forwards run kernel by kernel: the same bits, for new images every call, in f32 and bf16;
// a new graph when the input's shape or a weight changes; the PiX gates of the replayed forward; no
// memory growth over replays; training forwards untouched. Runs on a GPU and on the CUDA emulator
// (whose streams record a capture and replay it); skips, saying why, where no CUDA device is usable.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadEngine, type Model, type Tensor } from '../../../electron/host/engine/addon';
import { cudaSkipReason } from '../../helpers/cuda';
import { randomValues, rng } from '../../helpers/random';

const skip = cudaSkipReason();
const engine = loadEngine();
const { Tensor: T, Model: M } = engine;

function images(seed: number, batch: number, size = 32): Tensor {
  return T.fromArray(Float32Array.from(randomValues(rng(seed), batch * 3 * size * size)), [batch, 3, size, size]).to('cuda');
}

function withGraphs<R>(enabled: boolean, body: () => Promise<R>): Promise<R> {
  const saved = engine.setCudaGraphs({ enabled });
  return body().finally(() => engine.setCudaGraphs(saved));
}

async function logits(model: Model, x: Tensor): Promise<Float32Array> {
  const y = await model.forward(x);
  const values = y.toArray() as Float32Array;
  y.dispose();  // so that the memory counts below see only what the model keeps
  return values;
}

/** What the graph path changes in the counters over body(). */
async function countedGraphs(body: () => Promise<void>): Promise<{ captures: number; replays: number; failures: number }> {
  const start = engine.cudaGraphStats();
  await body();
  const end = engine.cudaGraphStats();
  assert.equal(end.failures, start.failures, `a capture failed: ${end.lastFailure}`);
  return { captures: end.captures - start.captures, replays: end.replays - start.replays, failures: 0 };
}

describe('evaluation forwards replayed as CUDA graphs', { skip }, () => {
  let models: Model[] = [];
  const model = (name: string, activations: 'f32' | 'bf16' = 'f32') => {
    const m = new M(name, { seed: 5, device: 'cuda', activations });
    models.push(m);
    return m;
  };
  before(() => { engine.setCudaGraphs({ enabled: true }); });
  after(() => { for (const m of models) m.dispose(); models = []; });

  for (const activations of ['f32', 'bf16'] as const) {
    it(`pix_resnet_small_cs in ${activations}: each replay gives the eager forward's bits for its own images`, async () => {
      const m = model('pix_resnet_small_cs', activations);
      const inputs = [1, 2, 3].map((seed) => images(seed, 4));
      const eager = await withGraphs(false, async () => {
        const out: Float32Array[] = [];
        for (const x of inputs) out.push(await logits(m, x));
        return out;
      });
      const replayed: Float32Array[] = [];
      const counts = await countedGraphs(async () => {
        for (const x of inputs) replayed.push(await logits(m, x));
      });
      assert.deepEqual(counts, { captures: 1, replays: 3, failures: 0 });
      replayed.forEach((r, i) => assert.deepEqual(r, eager[i], `input ${i}`));
    });
  }

  it('makes a new graph for a new batch size, and after the weights change', async () => {
    const m = model('resnet_small');
    const [x4, x2] = [images(7, 4), images(8, 2)];
    let counts = await countedGraphs(async () => {
      await logits(m, x4);
      await logits(m, x2);
      await logits(m, x2);
    });
    assert.deepEqual(counts, { captures: 2, replays: 3, failures: 0 });
    // A training step writes new weights (and BatchNorm statistics) in place.
    const train = await m.forward(x2, { train: true });
    const labels = T.fromArray(BigInt64Array.from([0n, 1n]), [2]);
    await m.backward(engine.crossEntropy(train.to('cpu'), engine.smoothOneHot(labels, m.numClasses, 0)).dlogits.to('cuda'));
    new engine.Optimizer(m, { type: 'sgd' }).step({ lr: 0.1 });
    const eager = await withGraphs(false, () => logits(m, x2));
    let replayed: Float32Array | undefined;
    counts = await countedGraphs(async () => { replayed = await logits(m, x2); });
    assert.deepEqual(counts, { captures: 1, replays: 1, failures: 0 });
    assert.deepEqual(replayed, eager);
  });

  it("leaves the replayed forward's PiX gates in the model", async () => {
    const m = model('pix_resnet_small_cs');
    const x = images(11, 2);
    await withGraphs(false, () => logits(m, x));
    const eagerGates = m.lastGates().map((g) => g.values.toArray());
    await logits(m, images(12, 2));  // captured and replayed
    await logits(m, x);              // replayed
    assert.deepEqual(m.lastGates().map((g) => g.values.toArray()), eagerGates);
  });

  it('holds its memory steady over replays', async () => {
    const m = model('resnet_small');
    const x = images(13, 4);
    await logits(m, x);
    await logits(m, x);
    const settled = engine.cudaMemoryStats(0);
    for (let i = 0; i < 5; i++) await logits(m, x);
    const now = engine.cudaMemoryStats(0);
    assert.equal(now.allocatedBytes, settled.allocatedBytes);
    assert.equal(now.driverAllocations, settled.driverAllocations);
  });
});
