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

async function backwardOnce(model: Model): Promise<void> {
  const x = T.fromArray(Float32Array.from(randomValues(rng(3), 4 * 16 * 16 * 3)), [4, 16, 16, 3], 'f32', 'cuda');
  const logits = await model.forward(x, { train: true, layout: 'nhwc' });
  const labels = T.fromArray(BigInt64Array.from([1n, 2n, 3n, 4n]), [4], 'i64', 'cuda');
  const { dlogits } = engine.crossEntropy(logits, engine.smoothOneHot(labels, model.numClasses, 0));
  await model.backward(dlogits);
  for (const t of [x, logits, labels, dlogits]) t.dispose();
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
    const entries = model.stateEntries().filter((e) => e.parameter);
    const buckets = planBuckets(entries.map((e) => ({ key: e.key, bytes: 4 * e.shape.reduce((n, d) => n * d, 1) })), 16 * 1024);
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
