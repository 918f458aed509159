// One rank of the two-rank NCCL check (test/native/nccl_ranks.cuda.test.ts), forked by the test:
// joins the communicator named by PIX_NCCL_ID on cuda:PIX_RANK, runs the collectives the test lists
// on inputs it can rebuild (ncclInputs), and sends back what each left in its tensors.
import { loadEngine, type Model, type Tensor } from '../../electron/host/engine/addon';
import { planBuckets } from '../../electron/host/distributed/nccl_group';
import { randomValues, rng } from './random';

/** Longer than the emulator's 64Ki-float slot, and not a multiple of it: several chunks, the last one partial. */
export const LONG = 150_001;

/** Rank r's input to every all-reduce: distinct per rank, so a sum that drops or repeats a rank shows. */
export function ncclInput(rank: number, length = LONG): Float32Array {
  return Float32Array.from(randomValues(rng(100 + rank), length));
}

export interface RankResult {
  f32Sum: number[];
  bf16Input: number[];
  bf16Sum: number[];
  /** Rank 1's input, broadcast from root 1 into every rank's tensor (f32 and bf16). */
  f32FromRoot1: number[];
  bf16FromRoot1: number[];
  localGradients: number[][];
  averagedGradients: number[][];
  extras: number[];
  /** The same step's gradients and extras through backwardAllReduce (the averaging overlapped with the backward). */
  overlappedGradients: number[][];
  overlappedExtras: number[];
  /** The model's f32 state before and after broadcastState from root 1. */
  stateBefore: number[][];
  stateFromRoot1: number[][];
  /** What rank 0's collective said after rank 1 aborted (rank 0 only). */
  afterAbort?: string;
}

function gradients(model: Model): number[][] {
  return model.stateEntries().filter((e) => e.parameter).map((e) => {
    const grad = model.getGrad(e.key);
    const values = Array.from(grad.toArray() as Float32Array);
    grad.dispose();
    return values;
  });
}

async function main(): Promise<void> {
  const rank = Number(process.env.PIX_RANK);
  const engine = loadEngine();
  const { Tensor: T } = engine;
  const device = `cuda:${rank}` as const;
  const comm = new engine.NcclComm(Buffer.from(process.env.PIX_NCCL_ID!, 'hex'), 2, rank, rank);
  const read = (t: Tensor) => Array.from(t.toArray() as Float32Array);

  const input = ncclInput(rank);
  const f32 = T.fromArray(input, [input.length], 'f32', device);
  comm.allReduceSum(f32);
  const bf16 = T.fromArray(input, [input.length], 'bf16', device);
  const bf16Input = read(bf16);
  comm.allReduceSum(bf16);

  const f32b = T.fromArray(input, [input.length], 'f32', device);
  comm.broadcast(f32b, 1);
  const bf16b = T.fromArray(input, [input.length], 'bf16', device);
  comm.broadcast(bf16b, 1);

  // The model-level calls, on a model whose gradients and state differ between the ranks.
  const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: 10, seed: 7 + rank, device });
  const x = T.fromArray(ncclInput(rank, 4 * 16 * 16 * 3), [4, 16, 16, 3], 'f32', device);
  const logits = await model.forward(x, { train: true, layout: 'nhwc' });
  const labels = T.fromArray(BigInt64Array.from([1n, 2n, 3n, BigInt(rank)]), [4], 'i64', device);
  const { dlogits } = engine.crossEntropy(logits, engine.smoothOneHot(labels, model.numClasses, 0));
  await model.backward(dlogits);
  const localGradients = gradients(model);
  const entries = model.stateEntries();
  const buckets = planBuckets(entries.filter((e) => e.parameter).map((e) => ({ key: e.key, bytes: 4 * e.shape.reduce((n, d) => n * d, 1) })), 16 * 1024);
  const extras = await comm.allReduceGradients(model, buckets, { scale: 0.5, extras: [rank + 1, 0.25, -rank] });
  const averagedGradients = gradients(model);
  // The same step again with the averaging overlapped with its backward (what the trainer runs).
  model.zeroGrad();
  const again = await model.forward(x, { train: true, layout: 'nhwc' });
  const { dlogits: dagain } = engine.crossEntropy(again, engine.smoothOneHot(labels, model.numClasses, 0));
  const overlappedExtras = await comm.backwardAllReduce(model, dagain, buckets, { scale: 0.5, extras: [rank + 1, 0.25, -rank] });
  const overlappedGradients = gradients(model);
  const stateKeys = entries.filter((e) => e.dtype === 'f32').map((e) => e.key);
  const state = () => stateKeys.map((key) => { const v = model.getState(key); const a = read(v); v.dispose(); return a; });
  const stateBefore = state();
  await comm.broadcastState(model, [stateKeys.slice(0, 7), stateKeys.slice(7)], 1);
  const stateFromRoot1 = state();

  const result: RankResult = {
    f32Sum: read(f32), bf16Input, bf16Sum: read(bf16), f32FromRoot1: read(f32b), bf16FromRoot1: read(bf16b),
    localGradients, averagedGradients, extras, overlappedGradients, overlappedExtras, stateBefore, stateFromRoot1,
  };
  // Rank 1 leaves with ncclCommAbort; rank 0's next collective must fail rather than wait for it.
  if (rank === 1) comm.abort();
  else {
    try {
      comm.allReduceSum(T.zeros([8], 'f32', device));
      result.afterAbort = 'no error';
    } catch (error) {
      result.afterAbort = String(error);
    }
    comm.abort();
  }
  process.send!(result, () => process.exit(0));
}

// Only as a forked rank: `node --test dist/test/` loads every file under it, this one included.
if (process.env.PIX_RANK !== undefined && process.env.PIX_NCCL_ID !== undefined && process.send) {
  main().catch((error: unknown) => {
    process.send!({ error: String(error) }, () => process.exit(1));
  });
}
