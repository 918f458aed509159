// The data-parallel equivalence check's shared half: a tiny PiX network, deterministic batches
// per (shard, step), and one LAMB training step, used alike by each rank process
// (data_parallel_rank.ts) and by the single-process reference in the test.
import { loadEngine, type Model, type Optimizer, type Tensor } from '../../electron/host/engine/addon';

export const SHARD_BATCH = 4;
export const INPUT_SIZE = 16;
export const CLASSES = 10;
export const STEPS = 3;

export function makeModel(): { model: Model; optimizer: Optimizer } {
  const engine = loadEngine();
  const model = new engine.Model('pix_resnet_tiny_cs', { numClasses: CLASSES, seed: 7 });
  return { model, optimizer: new engine.Optimizer(model, { type: 'lamb' }) };
}

/** Shard `shard`'s batch at `step`: images (N,H,W,3) and labels (N), the same in every process. */
export function shardBatch(shard: number, step: number): { x: Tensor; labels: Tensor } {
  const { Tensor } = loadEngine();
  let state = (shard * 7919 + step * 104729 + 1) >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const pixels = Float32Array.from({ length: SHARD_BATCH * INPUT_SIZE * INPUT_SIZE * 3 }, () => next() * 2 - 1);
  const labels = BigInt64Array.from({ length: SHARD_BATCH }, () => BigInt(Math.floor(next() * CLASSES)));
  return { x: Tensor.fromArray(pixels, [SHARD_BATCH, INPUT_SIZE, INPUT_SIZE, 3]), labels: Tensor.fromArray(labels, [SHARD_BATCH]) };
}

/** Forward and backward of one shard's batch; its gradient is scaled by `gradScale`. Returns the loss. */
export async function accumulate(model: Model, shard: number, step: number, gradScale: number): Promise<number> {
  const engine = loadEngine();
  const { x, labels } = shardBatch(shard, step);
  const logits = await model.forward(x, { train: true, layout: 'nhwc' });
  const { loss, dlogits } = engine.labelSmoothingCrossEntropy(logits, labels, 0);
  const scaled = engine.Tensor.fromArray((dlogits.toArray() as Float32Array).map((g) => g * gradScale), dlogits.shape);
  await model.backward(scaled);
  for (const t of [x, labels, logits, dlogits, scaled]) t.dispose();
  return loss;
}

export function optimizerStep(model: Model, optimizer: Optimizer): void {
  optimizer.step({ lr: 3e-3, weightDecay: 0.05 });
  model.zeroGrad();
}

/** Every parameter, flattened, to compare two processes' weights. */
export function flatParameters(model: Model): number[] {
  return model.stateEntries().filter((e) => e.parameter).flatMap((e) => {
    const value = model.getState(e.key);
    const out = Array.from(value.toArray() as Float32Array);
    value.dispose();
    return out;
  });
}
