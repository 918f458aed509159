// What the PiX gates decide, read from a forward pass (model.lastGates()): per block, over a sample
// of images, the fraction of (image, subset) gates that pick (p < tau: the subset's maximum) rather
// than mix (the mean), with a histogram of p; and for a single image, the top-5 classes with every
// block's gates. Runs in a worker process (it runs the network). ResNet checkpoints have no gates.
import { histogram } from './tensor_stats';
import type { GateBlockStats, ImageClassification } from '../../../shared/api';
import { loadEngine, type GateRecord, type Model } from '../engine/addon';
import { RequestError } from '../request_error';

const GATE_BINS = 20;
const CHUNK = 32;

/** Images (N, size, size, 3) NHWC through the model in eval mode, with each block's gates (N,K) collected. */
async function forwardWithGates(model: Model, images: Float32Array, count: number, size: number): Promise<{ logits: Float32Array; gates: Map<string, { tau: number; values: number[] }> }> {
  const { Tensor } = loadEngine();
  const pixels = size * size * 3;
  const gates = new Map<string, { tau: number; values: number[] }>();
  const logits: number[] = [];
  for (let start = 0; start < count; start += CHUNK) {
    const n = Math.min(CHUNK, count - start);
    const x = Tensor.fromArray(images.subarray(start * pixels, (start + n) * pixels), [n, size, size, 3]);
    const out = await model.forward(x, { layout: 'nhwc' });
    logits.push(...(out.toArray() as Float32Array));
    for (const record of model.lastGates() as GateRecord[]) {
      const entry = gates.get(record.block) ?? { tau: record.tau, values: [] };
      entry.values.push(...(record.values.toArray() as Float32Array));
      gates.set(record.block, entry);
      record.values.dispose();
    }
    x.dispose();
    out.dispose();
  }
  return { logits: Float32Array.from(logits), gates };
}

export async function gateStatistics(model: Model, images: Float32Array, count: number, size: number): Promise<GateBlockStats[]> {
  if (model.family !== 'pix') throw new RequestError(400, `${model.name} has no PiX gates (a baseline ResNet): gate statistics need a PiX checkpoint`);
  const { gates } = await forwardWithGates(model, images, count, size);
  return [...gates].map(([block, { tau, values }]) => ({
    block, tau, subsets: values.length / count,
    pickFraction: values.filter((p) => p < tau).length / values.length,
    histogram: histogram(values, GATE_BINS, [0, 1]),
  }));
}

function softmax(row: Float32Array): number[] {
  const max = Math.max(...row);
  const exps = Array.from(row, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export async function classifyImage(model: Model, image: Float32Array, size: number, classNames: string[] | null): Promise<ImageClassification> {
  const { logits, gates } = await forwardWithGates(model, image, 1, size);
  const probabilities = softmax(logits);
  const top5 = probabilities.map((probability, classIndex) => ({ classIndex, probability }))
    .sort((a, b) => b.probability - a.probability).slice(0, 5)
    .map(({ classIndex, probability }) => ({ classIndex, className: classNames?.[classIndex] ?? null, probability }));
  const blocks = [...gates].map(([block, { tau, values }]) => ({ block, tau, gate: values, picked: values.map((p) => p < tau) }));
  return { top5, blocks };
}
