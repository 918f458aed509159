// Throughput of the engine's networks on synthetic data: images/s for inference (eval forward) and
// for a full training step (train forward, cross-entropy, backward, SGD step), median over timed
// repeats after warm-up, at a chosen compute precision. Shared by `pix bench` and the workbench's
// comparison panel. On CUDA the images live on the device before timing, each timed step ends
// with the device synchronised, and precision bf16 means bf16 activations (f32 master weights);
// the loss runs on the host, as the trainer computes it.
import type { ThroughputPart } from '../../../shared/api';
import { loadEngine, type CpuPrecision, type Model, type Optimizer, type Tensor } from '../engine/addon';

export type BenchMode = 'train' | 'infer';

export interface BenchOptions {
  model: string;
  mode: BenchMode;
  device: string;
  batchSize: number;
  inputSize: number;
  warmup: number;
  repeats: number;
  /** CPU: of the convolutions and the classifier (setCpuPrecision), the rest stays f32. CUDA: the
   *  activations' dtype. Default 'fp32'. */
  precision?: CpuPrecision;
  /** Also time each part of the network (Model.profile) over `repeats` more steps, after the timed
   *  ones so that the per-part synchronisation on CUDA does not touch the images/s. */
  profile?: boolean;
}

/** One part of the network (stem, a block, the head): its mean milliseconds per step. */
export type BenchPart = ThroughputPart;

export interface BenchResult {
  model: string;
  mode: BenchMode;
  device: string;
  batchSize: number;
  inputSize: number;
  precision: CpuPrecision;
  imagesPerSecond: number;
  /** Median seconds per step (per batch). */
  stepSeconds: number;
  samples: number[];
  /** With options.profile: stem, blocks and head in network order. */
  parts?: BenchPart[];
  /** On CUDA, over this process so far: the convolution directions (forward, backward data, backward
   *  filter of each shape) cuDNN ran and those the own path ran, and the CUDA graphs made. */
  cuda?: CudaPaths;
}

export interface CudaPaths {
  convDirections: { cudnn: number; own: number };
  /** Evaluation's folded convolutions: those cuDNN's fused bias (+ residual) + ReLU call ran, those
   *  it refused (their epilogue then a pass of its own) with the first refusal's reason. */
  fused: { ran: number; refused: number; firstRefusal: string | null };
  graphs: { captures: number; replays: number; failures: number; lastFailure: string | null };
}

/** What this process's CUDA work ran on (NativeEngine.cudaConvPlans, cudaGraphStats). */
export function cudaPaths(): CudaPaths {
  const engine = loadEngine();
  const plans = engine.cudaConvPlans();
  const choices = plans.flatMap((p) => [p.forward, p.backwardData, p.backwardFilter]).filter((c) => c !== null);
  const fused = plans.flatMap((p) => [p.fusedRelu, p.fusedIdentity]).filter((c) => c !== null);
  const refusals = fused.flatMap((c) => ('refused' in c ? [c.refused] : []));
  return {
    convDirections: { cudnn: choices.filter((c) => c !== 'own').length, own: choices.filter((c) => c === 'own').length },
    fused: { ran: fused.length - refusals.length, refused: refusals.length, firstRefusal: refusals[0] ?? null },
    graphs: engine.cudaGraphStats(),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function syntheticImages(batch: number, size: number): Tensor {
  const { Tensor } = loadEngine();
  const data = new Float32Array(batch * 3 * size * size);
  let state = 12345;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state / 2 ** 31 - 1;
  }
  return Tensor.fromArray(data, [batch, 3, size, size]);
}

export function oneHotTargets(batch: number, classes: number): Tensor {
  const engine = loadEngine();
  const labels = engine.Tensor.fromArray(BigInt64Array.from({ length: batch }, (_, i) => BigInt((i * 7919) % classes)), [batch]);
  return engine.smoothOneHot(labels, classes, 0);
}

/** The CUDA ordinal of 'cuda' / 'cuda:N', or undefined for the CPU. */
function cudaIndex(device: string): number | undefined {
  return device === 'cpu' ? undefined : Number(device.split(':')[1] ?? 0);
}

export async function step(model: Model, mode: BenchMode, x: Tensor, targets: Tensor, optimizer: Optimizer): Promise<void> {
  const engine = loadEngine();
  const cuda = cudaIndex(model.device);
  if (mode === 'infer') {
    (await model.forward(x)).dispose();
    if (cuda !== undefined) engine.cudaSynchronize(cuda);
    return;
  }
  const logits = await model.forward(x, { train: true });
  const hostLogits = cuda === undefined ? logits : logits.to('cpu');
  const { dlogits } = engine.crossEntropy(hostLogits, targets);
  await model.backward(dlogits);
  optimizer.step({ lr: 1e-3 });
  model.zeroGrad();
  if (cuda !== undefined) engine.cudaSynchronize(cuda);
  logits.dispose();
  dlogits.dispose();
}

export async function benchmark(options: BenchOptions): Promise<BenchResult> {
  const engine = loadEngine();
  const precision = options.precision ?? 'fp32';
  const onCuda = options.device !== 'cpu';
  const model = new engine.Model(options.model, onCuda
    ? { device: options.device, activations: precision === 'bf16' ? 'bf16' : 'f32' } : {});
  const name = model.name;
  let optimizer: Optimizer | undefined, hostImages: Tensor | undefined, x: Tensor | undefined, targets: Tensor | undefined;
  const samples: number[] = [];
  let parts: BenchPart[] | undefined;
  const before = engine.cpuPrecision();
  if (!onCuda) engine.setCpuPrecision(precision);  // process-wide: restored below for callers that run other work
  try {
    optimizer = new engine.Optimizer(model, { type: 'momentum', momentum: 0.9 });
    hostImages = syntheticImages(options.batchSize, options.inputSize);
    x = onCuda ? hostImages.to(model.device) : hostImages;
    targets = oneHotTargets(options.batchSize, model.numClasses);
    for (let i = 0; i < options.warmup; i++) await step(model, options.mode, x, targets, optimizer);
    for (let i = 0; i < options.repeats; i++) {
      const start = process.hrtime.bigint();
      await step(model, options.mode, x, targets, optimizer);
      samples.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    if (options.profile) parts = await profileParts(model, options.mode, x, targets, optimizer, options.repeats);
  } finally {
    engine.setCpuPrecision(before);
    // The memory goes back now, also after a failure (out of device memory), for callers that go on.
    for (const made of [targets, x, hostImages, optimizer, model]) made?.dispose();
  }
  const stepSeconds = median(samples);
  return {
    model: name, mode: options.mode, device: options.device, batchSize: options.batchSize,
    inputSize: options.inputSize, precision, imagesPerSecond: options.batchSize / stepSeconds, stepSeconds, samples,
    ...(parts ? { parts } : {}),
    ...(onCuda ? { cuda: cudaPaths() } : {}),
  };
}

/** `steps` more steps with each part of the model timed: its mean milliseconds per step, in order. */
export async function profileParts(model: Model, mode: BenchMode, x: Tensor, targets: Tensor, optimizer: Optimizer,
  steps: number): Promise<BenchPart[]> {
  model.setProfiling(true);
  try {
    for (let i = 0; i < steps; i++) await step(model, mode, x, targets, optimizer);
    return model.profile().map((p) => ({
      name: p.name,
      forwardMs: p.forwards > 0 ? (p.forwardSeconds / p.forwards) * 1000 : 0,
      backwardMs: p.backwards > 0 ? (p.backwardSeconds / p.backwards) * 1000 : 0,
    }));
  } finally {
    model.setProfiling(false);
  }
}
