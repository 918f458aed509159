// Evaluation as the official script reports it: top-1 and top-5 accuracy (percent) and the mean
// cross-entropy over the whole split, in eval mode (running BatchNorm statistics, no dropout).
// Images, labels and the loss go to the model's device; only the logits come back for top-k.
// The loader's batches may be normalised floats or 8-bit pixels (normalised on the device). With
// ReaL labels (real_labels.ts) the same pass scores them too, as the official evaluate() does.
import type { BatchOutput } from '../data/batch_decode';
import type { Loader } from '../data/loader';
import { loadEngine, type Model } from '../engine/addon';
import { batchInput } from './batch_input';
import type { RealLabels, RealScore } from './real_labels';

export interface EvalResult {
  acc1: number;
  acc5: number;
  loss: number;
  images: number;
  /** Against the ReaL labels, when evaluate() was given them. */
  real?: RealScore;
}

export interface EvaluateOptions {
  /** Score the ReaL labels of the loader's samples too; the loader must visit every sample once. */
  real?: RealLabels;
}

/** How many rows have their label among the k largest logits (ties count against the label). */
export function topkCorrect(logits: Float32Array, labels: Int32Array, classes: number, k: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    const target = row[labels[i]!]!;
    let above = 0;
    for (let j = 0; j < classes; j++) if (row[j]! > target || (row[j] === target && j < labels[i]!)) above++;
    if (above < k) correct++;
  }
  return correct;
}

export async function evaluate<O extends BatchOutput>(model: Model, loader: Loader<O>, inputSize: number, options: EvaluateOptions = {}): Promise<EvalResult> {
  const { Tensor, crossEntropy, smoothOneHot } = loadEngine();
  const classes = model.numClasses;
  const real = options.real?.scorer();
  let acc1 = 0, acc5 = 0, lossSum = 0, images = 0;
  // The next batch is taken and uploaded while the device runs this one's forward, before its
  // logits are read back (uploads do not wait for the device: core/cuda/runtime.h).
  const batches = loader.epoch(0)[Symbol.asyncIterator]();
  const takeNext = async () => {
    const next = await batches.next();
    if (next.done) return null;
    const batch = next.value;
    const x = batchInput(batch, inputSize, model.device);
    const labels = Tensor.fromArray(BigInt64Array.from(batch.labels, (l) => BigInt(l)), [batch.size], 'i64', model.device);
    return { batch, x, labels };
  };
  let ahead: Awaited<ReturnType<typeof takeNext>> = null;
  try {
    ahead = await takeNext();
    while (ahead) {
      const { batch, x, labels } = ahead;
      ahead = null;
      const logits = await model.forward(x, { layout: 'nhwc' });
      x.dispose();  // its memory goes to later work only, in the device's stream order
      ahead = await takeNext();
      const values = logits.toArray() as Float32Array;
      const targets = smoothOneHot(labels, classes, 0);
      const { loss, dlogits } = crossEntropy(logits, targets);
      lossSum += loss * batch.size;
      acc1 += topkCorrect(values, batch.labels, classes, 1);
      acc5 += topkCorrect(values, batch.labels, classes, Math.min(5, classes));
      real?.add(values, classes, batch.indices);
      images += batch.size;
      for (const t of [logits, labels, targets, dlogits]) t.dispose();
    }
  } finally {
    if (ahead) for (const t of [ahead.x, ahead.labels]) t.dispose();
    await batches.return?.(undefined);
  }
  const result: EvalResult = { acc1: (100 * acc1) / images, acc5: (100 * acc5) / images, loss: lossSum / images, images };
  if (real) result.real = real.score();
  return result;
}
