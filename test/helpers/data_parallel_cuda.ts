// The data-parallel equivalence check on CUDA with NCCL (test/host/distributed/model_sync.cuda.test.ts):
// the CPU check's batches, optimizer step and comparison (data_parallel_step.ts) with the model on
// a CUDA device, and one rank of it when forked: it joins the CPU group, then the NCCL group on
// cuda:PIX_RANK, trains STEPS steps on its shard with NCCL-averaged gradients (and SyncBatchNorm
// with PIX_SYNC_BN=1), and sends its losses and final parameters to the parent.
import { loadEngine, type Model, type Optimizer, type Tensor } from '../../electron/host/engine/addon';
import { averageGradients, broadcastState } from '../../electron/host/distributed/model_sync';
import { joinNcclGroup } from '../../electron/host/distributed/nccl_group';
import { joinProcessGroup } from '../../electron/host/distributed/process_group';
import { CLASSES, flatParameters, optimizerStep, shardBatch, STEPS } from './data_parallel_step';

/** Small buckets, so that the model's gradients take several collectives, as a large model's do. */
export const BUCKET_BYTES = 32 * 1024;

export function makeCudaModel(device: string): { model: Model; optimizer: Optimizer } {
  const engine = loadEngine();
  const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: CLASSES, seed: 7, device });
  return { model, optimizer: new engine.Optimizer(model, { type: 'lamb' }) };
}

/** Both shards' batches at `step` as one batch of 2B on `device` (what SyncBatchNorm's ranks see together). */
export async function accumulateBoth(model: Model, device: string, step: number): Promise<number> {
  const engine = loadEngine();
  const [a, b] = [shardBatch(0, step), shardBatch(1, step)];
  const join = (s: Tensor, t: Tensor, dtype: 'f32' | 'i64') => engine.Tensor.fromArray(
    dtype === 'f32' ? Float32Array.of(...(s.toArray() as Float32Array), ...(t.toArray() as Float32Array))
      : BigInt64Array.of(...(s.toArray() as BigInt64Array), ...(t.toArray() as BigInt64Array)),
    [s.shape[0]! + t.shape[0]!, ...s.shape.slice(1)], dtype, device);
  const [x, labels] = [join(a.x, b.x, 'f32'), join(a.labels, b.labels, 'i64')];
  const logits = await model.forward(x, { train: true, layout: 'nhwc' });
  const { loss, dlogits } = engine.labelSmoothingCrossEntropy(logits, labels, 0);
  await model.backward(dlogits);
  for (const t of [a.x, a.labels, b.x, b.labels, x, labels, logits, dlogits]) t.dispose();
  return loss;
}

/** data_parallel_step.accumulate on the model's CUDA device. */
export async function accumulateOn(model: Model, device: string, shard: number, step: number, gradScale: number): Promise<number> {
  const engine = loadEngine();
  const batch = shardBatch(shard, step);
  const [x, labels] = [batch.x.to(device), batch.labels.to(device)];
  const logits = await model.forward(x, { train: true, layout: 'nhwc' });
  const { loss, dlogits } = engine.labelSmoothingCrossEntropy(logits, labels, 0);
  const scaled = engine.Tensor.fromArray((dlogits.toArray() as Float32Array).map((g) => g * gradScale), dlogits.shape, 'f32', device);
  await model.backward(scaled);
  for (const t of [batch.x, batch.labels, x, labels, logits, dlogits, scaled]) t.dispose();
  return loss;
}

async function main(): Promise<void> {
  const rank = Number(process.env.PIX_RANK);
  const worldSize = Number(process.env.PIX_WORLD_SIZE);
  const device = `cuda:${rank}`;
  const host = await joinProcessGroup({ rank, worldSize, masterAddr: '127.0.0.1', masterPort: Number(process.env.PIX_MASTER_PORT) });
  const group = await joinNcclGroup(host, { deviceIndex: rank, bucketBytes: BUCKET_BYTES, ownsHost: true });
  const { model, optimizer } = makeCudaModel(device);
  if (process.env.PIX_SYNC_BN === '1') group.syncBatchNorm(model);
  await broadcastState(model, group);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = await accumulateOn(model, device, rank, step, 1);
    const [lossSum] = await averageGradients(model, group, [loss]);
    losses.push(lossSum! / worldSize);
    optimizerStep(model, optimizer);
  }
  group.close();
  process.send!({ losses, parameters: flatParameters(model), backend: group.backend }, () => process.exit(0));
}

// Only as a forked rank: `node --test dist/test/` loads every file under it, this one included.
if (process.env.PIX_RANK !== undefined && process.env.PIX_DATA_PARALLEL_CUDA === '1' && process.send) {
  main().catch((error: unknown) => {
    process.send!({ error: String(error) }, () => process.exit(1));
  });
}
