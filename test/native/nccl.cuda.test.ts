// NCCL on a GPU, one rank (world size 1: every collective is then an identity, which pins down
// that the data arrives where it left and that the extras and the scale are applied): in-place
// all-reduce and broadcast of f32 and bf16 tensors on the engine's stream, the refusals, and the
// model-level bucketed gradient average and state broadcast the trainer uses. Two ranks are
// nccl_ranks.cuda.test.ts and scripts/gpu/check.sh's nccl part (separate processes). Runs on a GPU
// with NCCL and on the CUDA emulator with its NCCL stand-in; skips, printing why, without a usable
// CUDA device or without NCCL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadEngine, type Model, type NcclComm, type Tensor } from '../../electron/host/engine/addon';
import { planBuckets } from '../../electron/host/distributed/nccl_group';
import { cudaSkipReason } from '../helpers/cuda';
import { randomValues, rng } from '../helpers/random';
import { maxRelativeError } from '../helpers/compare';

const engine = loadEngine();
const { Tensor: T } = engine;

function skipReason(): string | false {
  const cuda = cudaSkipReason();
  if (cuda) return cuda;
  const nccl = engine.ncclLibraryStatus();
  return nccl.available ? false : `NCCL cannot be loaded: ${nccl.reason}`;
}
const skip = skipReason();

function gradients(model: Model): Float32Array[] {
  return model.stateEntries().filter((e) => e.parameter).map((e) => {
    const grad = model.getGrad(e.key);
    const values = grad.toArray() as Float32Array;
    grad.dispose();
    return values;
  });
}

/** A training forward of fixed images; returns the loss gradient to run its backward with. */
async function trainingForward(model: Model): Promise<Tensor> {
  const x = T.fromArray(Float32Array.from(randomValues(rng(3), 4 * 16 * 16 * 3)), [4, 16, 16, 3], 'f32', 'cuda');
  const logits = await model.forward(x, { train: true, layout: 'nhwc' });
  const labels = T.fromArray(BigInt64Array.from([1n, 2n, 3n, 4n]), [4], 'i64', 'cuda');
  const { dlogits } = engine.crossEntropy(logits, engine.smoothOneHot(labels, model.numClasses, 0));
  for (const t of [x, logits, labels]) t.dispose();
  return dlogits;
}

async function backwardOnce(model: Model): Promise<void> {
  const dlogits = await trainingForward(model);
  await model.backward(dlogits);
  dlogits.dispose();
}

function gradientBuckets(model: Model): string[][] {
  const entries = model.stateEntries().filter((e) => e.parameter);
  return planBuckets(entries.map((e) => ({ key: e.key, bytes: 4 * e.shape.reduce((n, d) => n * d, 1) })), 16 * 1024);
}

describe('NCCL on CUDA, world size 1', { skip }, () => {
  let comm: NcclComm;
  before(() => {
    comm = new engine.NcclComm(engine.ncclUniqueId(), 1, 0, 0);
  });
  after(() => comm.destroy());

  it('knows its rank, world size and device', () => {
    assert.deepEqual([comm.rank, comm.worldSize, comm.device], [0, 1, 'cuda:0']);
    assert.match(engine.ncclLibraryStatus().version!, /^2\./);
  });

  it('all-reduces and broadcasts f32 and bf16 tensors in place, after the kernels queued before them', () => {
    const values = Float32Array.from(randomValues(rng(1), 100_003));
    for (const dtype of ['f32', 'bf16'] as const) {
      const x: Tensor = T.fromArray(values, [values.length], dtype, 'cuda');
      const expected = x.toArray();
      comm.allReduceSum(x);
      assert.deepEqual(x.toArray(), expected, `${dtype} all-reduce`);
      comm.broadcast(x, 0);
      comm.broadcast(x);
      assert.deepEqual(x.toArray(), expected, `${dtype} broadcast`);
      // Queued work of the stream: a cast (a kernel) right before the collective is complete when it runs.
      const y = x.cast(dtype === 'f32' ? 'bf16' : 'f32');
      comm.allReduceSum(y);
      assert.deepEqual(y.toArray(), (x.cast(y.dtype).toArray()), `${dtype} after a cast`);
      x.dispose();
      y.dispose();
    }
    comm.allReduceSum(T.zeros([0], 'f32', 'cuda'));  // nothing to do, nothing refused
  });

  it('refuses tensors on the CPU, of other dtypes, and roots outside the world', () => {
    assert.throws(() => comm.allReduceSum(T.zeros([4], 'f32')), /^Error: NcclComm\.allReduceSum: the tensor is on cpu, the communicator on cuda:0$/);
    assert.throws(() => comm.broadcast(T.zeros([4], 'i64', 'cuda')), /NcclComm\.broadcast: f32 or bf16 tensors only, got i64/);
    assert.throws(() => comm.broadcast(T.zeros([4], 'f32', 'cuda'), 1), (e: Error) => e instanceof TypeError && /'root' must be an integer in \[0, 0\]/.test(e.message));
    assert.throws(() => comm.allReduceSum({} as Tensor), /argument 'tensor' must be a Tensor/);
  });

  it('averages a CUDA model\'s gradients bucket by bucket: the scale applied, the extras summed in the last bucket', async () => {
    const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    await backwardOnce(model);
    const local = gradients(model);
    const buckets = gradientBuckets(model);
    assert.ok(buckets.length > 2);

    assert.deepEqual(await comm.allReduceGradients(model, buckets, { scale: 1, extras: [] }), []);
    assert.deepEqual(gradients(model), local, 'the sum over one rank leaves every gradient as it was');

    const pending = comm.allReduceGradients(model, buckets, { scale: 0.5, extras: [2.5, 1, -3] });
    assert.throws(() => model.zeroGrad(), /the model is busy/);
    assert.throws(() => comm.allReduceSum(T.zeros([1], 'f32', 'cuda')), /a collective of this communicator is still running/);
    assert.deepEqual(await pending, [2.5, 1, -3]);
    assert.deepEqual(gradients(model), local.map((g) => g.map((v) => v * 0.5)), 'halved exactly');

    // Extras without buckets travel alone.
    assert.deepEqual(await comm.allReduceGradients(model, [], { scale: 1, extras: [7] }), [7]);
    await assert.rejects(async () => comm.allReduceGradients(model, [['layer1.0.weight_missing']], { scale: 1 }), /is not a key of/);
    const buffer = model.stateEntries().find((e) => !e.parameter)!.key;
    await assert.rejects(async () => comm.allReduceGradients(model, [[buffer]], { scale: 1 }), /is a buffer and has no gradient/);
    await assert.rejects(async () => comm.allReduceGradients(model, [], { scale: 1, extras: new Array(17).fill(0) }), /at most 16 extras/);
    await assert.rejects(async () => comm.allReduceGradients(model, [], {} as { scale: number }), /'scale' must be a finite number/);
  });

  it('overlaps the bucket collectives with the backward: the gradients and extras of a backward followed by allReduceGradients', async () => {
    const reference = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    await backwardOnce(reference);
    const buckets = gradientBuckets(reference);
    assert.ok(buckets.length > 2);
    assert.deepEqual(await comm.allReduceGradients(reference, buckets, { scale: 0.5, extras: [2.5, 1] }), [2.5, 1]);
    const expected = gradients(reference);

    const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    const dlogits = await trainingForward(model);
    const pending = comm.backwardAllReduce(model, dlogits, buckets, { scale: 0.5, extras: [2.5, 1] });
    assert.throws(() => model.zeroGrad(), /the model is busy/);
    assert.throws(() => comm.allReduceSum(T.zeros([1], 'f32', 'cuda')), /a collective of this communicator is still running/);
    assert.deepEqual(await pending, [2.5, 1]);
    assert.deepEqual(gradients(model), expected, 'bit for bit');
    // Every gradient bucket went out before the backward ended: the stem's (the last one) once the stem's gradients were final.
    assert.deepEqual(comm.lastOverlap, { buckets: buckets.length, sentDuringBackward: buckets.length });

    // Accumulation: a micro-batch's backward alone, then the step's last one averaged with its backward.
    model.zeroGrad();
    await backwardOnce(model);
    const second = await trainingForward(model);
    assert.deepEqual(await comm.backwardAllReduce(model, second, buckets, { scale: 0.25 }), []);
    assert.deepEqual(gradients(model), expected, 'two equal micro-batches at a quarter: the half of one');
    // A bucket list that leaves parameters out: they are not averaged (the caller's plan decides).
    const third = await trainingForward(model);
    model.zeroGrad();
    await comm.backwardAllReduce(model, third, [buckets[0]!], { scale: 0.5 });
    const firstBucket = new Set(buckets[0]);
    const keys = model.stateEntries().filter((e) => e.parameter).map((e) => e.key);
    const halvedOnly = gradients(model);
    keys.forEach((key, i) => {
      const factor = firstBucket.has(key) ? 1 : 2;
      assert.deepEqual(halvedOnly[i], expected[i]!.map((v) => v * factor), key);
    });
    for (const t of [dlogits, second, third]) t.dispose();
  });

  it('refuses an overlapped backward it cannot run, leaving the model and the communicator usable', async () => {
    const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    const buckets = gradientBuckets(model);
    const dlogits = T.zeros([4, 10], 'f32', 'cuda');
    await assert.rejects(async () => comm.backwardAllReduce(model, dlogits, buckets, { scale: 1 }), /backward needs a training-mode forward first/);
    const twice = [buckets[0]!, [buckets[0]![0]!]];
    const ready = await trainingForward(model);
    await assert.rejects(async () => comm.backwardAllReduce(model, ready, twice, { scale: 1 }), /is in more than one bucket/);
    const buffer = model.stateEntries().find((e) => !e.parameter)!.key;
    await assert.rejects(async () => comm.backwardAllReduce(model, ready, [[buffer]], { scale: 1 }), /is a buffer and has no gradient/);
    await assert.rejects(async () => comm.backwardAllReduce(model, T.zeros([3, 10], 'f32', 'cuda'), buckets, { scale: 1 }), /dlogits must be \(4,10\)/);
    await assert.rejects(async () => comm.backwardAllReduce(model, ready, buckets, { scale: 1, extras: new Array(17).fill(0) }), /at most 16 extras/);
    assert.throws(() => comm.backwardAllReduce(model, {} as Tensor, buckets, { scale: 1 }), /argument 'dlogits' must be a Tensor/);
    // Still usable: the step goes through.
    assert.deepEqual(await comm.backwardAllReduce(model, ready, buckets, { scale: 1, extras: [4] }), [4]);
    for (const t of [dlogits, ready]) t.dispose();
  });

  it('runs SyncBatchNorm through the communicator: one rank normalises as per-process BatchNorm does', async () => {
    const state = (m: Model) => m.stateEntries().filter((e) => e.dtype === 'f32' && !e.parameter).map((e) => {
      const v = m.getState(e.key);
      const a = v.toArray() as Float32Array;
      v.dispose();
      return Array.from(a);
    });
    const local = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    await backwardOnce(local);
    const synced = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    comm.syncBatchNorm(synced);
    await backwardOnce(synced);
    const [g0, g1] = [gradients(local), gradients(synced)];
    const flat = (gs: Float32Array[]) => gs.flatMap((g) => Array.from(g));
    assert.ok(maxRelativeError(flat(g1), flat(g0)) < 1e-5, 'the gradients, to rounding (the ranks\' statistics combine in f32)');
    assert.ok(maxRelativeError(state(synced).flat(), state(local).flat()) < 1e-5, 'the running statistics');
    // Off again: per-process BatchNorm, bit for bit.
    comm.syncBatchNorm(synced, false);
    synced.zeroGrad();
    local.zeroGrad();
    await backwardOnce(synced);
    await backwardOnce(local);
    assert.deepEqual(gradients(synced), gradients(local));

    const cpu = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7 });
    assert.throws(() => comm.syncBatchNorm(cpu), /NcclComm\.syncBatchNorm: the model is on cpu, the communicator on cuda:0/);
  });

  it('broadcasts a CUDA model\'s state in buckets, leaving it usable (the folded BatchNorm rebuilt)', async () => {
    const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7, device: 'cuda' });
    await backwardOnce(model);  // running statistics that are not the initial ones
    const keys = model.stateEntries().filter((e) => e.dtype === 'f32').map((e) => e.key);
    const read = () => keys.map((key) => { const v = model.getState(key); const a = v.toArray(); v.dispose(); return a; });
    const x = T.fromArray(Float32Array.from(randomValues(rng(5), 2 * 16 * 16 * 3)), [2, 16, 16, 3], 'f32', 'cuda');
    const logitsBefore = (await model.forward(x, { layout: 'nhwc' })).toArray();
    const before = read();
    await comm.broadcastState(model, [keys.slice(0, 5), keys.slice(5)], 0);
    assert.deepEqual(read(), before);
    assert.deepEqual((await model.forward(x, { layout: 'nhwc' })).toArray(), logitsBefore);
  });

  it('frees the communicator on destroy or abort; later calls say so', () => {
    for (const release of ['destroy', 'abort'] as const) {
      const other = new engine.NcclComm(engine.ncclUniqueId(), 1, 0, 0);
      other[release]();
      other[release]();  // idempotent
      assert.throws(() => other.allReduceSum(T.zeros([1], 'f32', 'cuda')), /NcclComm\.allReduceSum: the communicator was destroyed/);
    }
  });
});
