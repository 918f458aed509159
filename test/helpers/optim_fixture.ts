// The optimizer fixture (scripts/fixtures/generate_optim.py: PyTorch's SGD, AdamW, timm's Lamb and
// ModelEma over three steps of pix_resnet_tiny_cs with seeded gradients) and what replays it, for
// the CPU tests (test/native/nn/optimizer.test.ts) and the CUDA ones (optimizer.cuda.test.ts).
import assert from 'node:assert/strict';
import type { StoredTensor } from '../../electron/host/checkpoints/safetensors';
import { loadEngine, type Model, type OptimizerOptions, type StateEntryInfo, type Tensor as EngineTensor } from '../../electron/host/engine/addon';
import { floats, maxRelativeError } from './compare';
import { readFixture } from './fixtures';
import { seededValues } from './seeded_weights';

const { Model: EngineModel, Tensor } = loadEngine();

export const TOLERANCE = 1e-5;

export const fixture = readFixture('optim.safetensors');
export const meta = fixture.metadata;
export const MODEL = meta.model!;
export const STEPS = Number(meta.steps);
const GRAD_SCALES = JSON.parse(meta.grad_scales!) as number[];
const SAMPLES = Number(meta.samples);
const SAMPLE_STRIDE = Number(meta.sample_stride);

export interface Scenario {
  type: OptimizerOptions['type'];
  momentum?: number;
  nesterov?: boolean;
  betas?: [number, number];
  eps?: number;
  clip_grad?: number;
  lr: number[];
  weight_decay: number[];
}
export const SCENARIOS = JSON.parse(meta.scenarios!) as Record<string, Scenario>;

export function stored(key: string): StoredTensor {
  const t = fixture.tensors.get(key);
  assert.ok(t, `the fixture lacks '${key}'`);
  return t;
}

export function expected(key: string): Float32Array {
  return stored(key).data as Float32Array;
}

/** The fixture's sampled elements of a flat PyTorch-layout tensor (see generate_optim.py). */
export function sample(data: ArrayLike<number>): number[] {
  const n = data.length;
  return Array.from({ length: Math.min(n, SAMPLES) }, (_, i) => data[(i * SAMPLE_STRIDE) % n]!);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  const error = maxRelativeError(actual, expected);
  assert.ok(error <= TOLERANCE, `${what}: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
}

export function f32(values: ArrayLike<number>, shape: number[]) {
  return Tensor.fromArray(Float32Array.from(values), shape);
}

/** The generator's start: seeded state, with meta.zero_key zeroed, on `device`. */
export function startModel(device = 'cpu'): { model: Model; entries: StateEntryInfo[] } {
  const model = new EngineModel(MODEL, device === 'cpu' ? {} : { device });
  const entries = model.stateEntries();
  for (const e of entries) {
    if (e.kind === 'bn_num_batches_tracked') continue;
    const value = e.key === meta.zero_key ? Tensor.zeros(e.shape) : f32(seededValues(e.key, e.shape, e.kind), e.shape);
    model.setState(e.key, value);
  }
  return { model, entries };
}

/** Step s's seeded gradients: exact in f32 (the scales are powers of two). */
function gradient(entry: StateEntryInfo, step: number): Float32Array {
  return seededValues(`grad${step}.${entry.key}`, entry.shape, 'input').map((v) => v * GRAD_SCALES[step - 1]!);
}

export function setGrads(model: Model, entries: StateEntryInfo[], step: number) {
  for (const e of entries) if (e.parameter) model.setGrad(e.key, f32(gradient(e, step), e.shape));
}

export function optimizerOptions(s: Scenario): OptimizerOptions {
  return { type: s.type, momentum: s.momentum, nesterov: s.nesterov, betas: s.betas, eps: s.eps };
}

export function stepOptions(s: Scenario, step: number) {
  return { lr: s.lr[step - 1]!, weightDecay: s.weight_decay[step - 1]!, clipGrad: s.clip_grad ?? null };
}

/** What the generator's training forward does to the BatchNorm buffers before EMA update `step`. */
export function setStepBuffers(model: Model, entries: StateEntryInfo[], step: number): void {
  for (const e of entries) {
    if (e.kind === 'bn_running_mean' || e.kind === 'bn_running_var') {
      model.setState(e.key, f32(seededValues(`buffers${step}.${e.key}`, e.shape, e.kind), e.shape));
    } else if (e.kind === 'bn_num_batches_tracked') {
      model.setState(e.key, Tensor.fromArray(BigInt64Array.of(BigInt(step)), [], 'i64'));
    }
  }
}

/** An EMA's state dict after update `step` against PyTorch's: floating entries sampled, num_batches_tracked exact. */
export function assertEmaState(state: Record<string, EngineTensor>, entries: StateEntryInfo[], step: number): void {
  assert.deepEqual(Object.keys(state), entries.map((e) => e.key));
  for (const e of entries) {
    const reference = stored(`ema.step${step}.${e.key}`);
    if (e.dtype === 'i64') assert.deepEqual(state[e.key]!.toArray(), reference.data, e.key);
    else assertClose(sample(floats(state[e.key]!)), reference.data as Float32Array, `update ${step} ${e.key}`);
  }
}
