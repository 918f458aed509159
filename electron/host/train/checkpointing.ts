// Training checkpoints: checkpoint-{epoch}.safetensors in the run's output folder holding the
// model (`model.` keys), the optimizer state (`optimizer.`), the EMA weights (`model_ema.`, and
// `model_ema_<decay>.` for each other decay), and metadata (epoch, the run config as JSON, and in
// `model_ema_decay` the decay of the EMA under `model_ema.`). `model_ema.` is the official key,
// the one every reader of "the EMA" takes: it holds --model_ema_decay's EMA, except in
// checkpoint-best-ema, where it holds the best-scoring EMA of the --model_ema_decays too and the
// main one moves to its own decay's prefix. Loading maps every group back to its EMA by decay.
// Writes are atomic (temporary file, fsync, rename), so
// a crash at any moment leaves the previous checkpoints complete; only the newest `keep` numbered
// checkpoints stay. The model keys load directly into PyTorch after stripping `model.`.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Model, Tensor } from '../engine/addon';
import { applyState } from '../checkpoints/model_state';
import { readSafetensors, writeSafetensors, type StoredTensor, type TensorToWrite } from '../checkpoints/safetensors';
import { loadEngine } from '../engine/addon';

/** Something with a state dict of named tensors: an optimizer or an EMA copy. */
export interface Stateful {
  stateDict(): Record<string, Tensor>;
  loadStateDict(state: Record<string, Tensor>): void;
}

export interface TrainingState {
  model: Model;
  optimizer?: Stateful;
  ema?: Stateful;
  /** ema's decay (--model_ema_decay); needed to save another decay's EMA under `model_ema.`. */
  emaDecay?: number;
  /** EMAs of --model_ema_decays, by decay. */
  extraEmas?: { decay: number; ema: Stateful }[];
}

/** The key prefix of an extra EMA: `model_ema_0.9998.`. */
export function extraEmaPrefix(decay: number): string {
  return `model_ema_${decay}.`;
}

const NUMBERED = /^checkpoint-(\d+)\.safetensors$/;

function toWrite(tensor: Tensor): TensorToWrite {
  const data = tensor.toArray();
  return { dtype: tensor.dtype === 'i64' ? 'I64' : tensor.dtype === 'f64' ? 'F64' : 'F32', shape: tensor.shape, data };
}

function collect(prefix: string, state: Record<string, Tensor>, into: Map<string, TensorToWrite>): void {
  for (const [key, tensor] of Object.entries(state)) into.set(prefix + key, toWrite(tensor));
}

/** The metadata key naming the decay of the EMA under `model_ema.`. */
export const EMA_DECAY_KEY = 'model_ema_decay';

export interface SaveOptions {
  /** The decay whose EMA goes under `model_ema.` (checkpoint-best-ema's best one). Default: state.ema's. */
  emaDecay?: number;
}

/** Every EMA of the state with the key prefix it is saved under: `model_ema.` for the chosen decay, its decay's own for the rest. */
function emaGroups(state: TrainingState, options: SaveOptions): { prefix: string; decay?: number; ema: Stateful }[] {
  const all = [...(state.ema ? [{ decay: state.emaDecay, ema: state.ema }] : []), ...(state.extraEmas ?? [])];
  const first = options.emaDecay === undefined ? (state.ema ? 0 : -1) : all.findIndex((e) => e.decay === options.emaDecay);
  if (options.emaDecay !== undefined && first < 0) throw new Error(`no EMA of decay ${options.emaDecay} to save under model_ema.`);
  return all.map((e, i) => {
    if (i === first) return { prefix: 'model_ema.', ...e };
    if (e.decay === undefined) throw new Error('the main EMA has no decay recorded, so it cannot be saved beside another decay\'s');
    return { prefix: extraEmaPrefix(e.decay), ...e };
  });
}

export function saveCheckpoint(path: string, state: TrainingState, metadata: Record<string, string>, options: SaveOptions = {}): void {
  const tensors = new Map<string, TensorToWrite>();
  for (const entry of state.model.stateEntries()) {
    const value = state.model.getState(entry.key);
    tensors.set(`model.${entry.key}`, toWrite(value));
    value.dispose();
  }
  if (state.optimizer) collect('optimizer.', state.optimizer.stateDict(), tensors);
  const emas = emaGroups(state, options);
  for (const { prefix, ema } of emas) collect(prefix, ema.stateDict(), tensors);
  const emaDecay = emas.find((e) => e.prefix === 'model_ema.')?.decay;
  writeSafetensors(path, tensors, { ...metadata, model: state.model.name, num_classes: String(state.model.numClasses),
    ...(emaDecay === undefined ? {} : { [EMA_DECAY_KEY]: String(emaDecay) }) });
}

/** Saves checkpoint-{epoch} and removes numbered checkpoints beyond the newest `keep`. */
export function saveEpochCheckpoint(dir: string, epoch: number, state: TrainingState, metadata: Record<string, string>, keep: number): string {
  const path = join(dir, `checkpoint-${epoch}.safetensors`);
  saveCheckpoint(path, state, { ...metadata, epoch: String(epoch) });
  for (const old of numberedCheckpoints(dir).slice(keep)) rmSync(old.path, { force: true });
  return path;
}

/** Numbered checkpoints in `dir`, newest first. */
export function numberedCheckpoints(dir: string): { epoch: number; path: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const match = NUMBERED.exec(name);
    return match ? [{ epoch: Number(match[1]), path: join(dir, name) }] : [];
  }).sort((a, b) => b.epoch - a.epoch);
}

function group(tensors: Map<string, StoredTensor>, prefix: string): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const [key, value] of tensors) if (key.startsWith(prefix)) out.set(key.slice(prefix.length), value);
  return out;
}

function engineTensors(stored: Map<string, StoredTensor>): Record<string, Tensor> {
  const { Tensor } = loadEngine();
  const out: Record<string, Tensor> = {};
  for (const [key, t] of stored) {
    out[key] = t.data instanceof BigInt64Array ? Tensor.fromArray(t.data, t.shape)
      : Tensor.fromArray(t.data instanceof Float64Array ? t.data : Float32Array.from(t.data as ArrayLike<number>), t.shape);
  }
  return out;
}

/** Restores everything a checkpoint holds into `state`; returns its metadata. */
export function loadCheckpoint(path: string, state: TrainingState): Record<string, string> {
  const { tensors, metadata } = readSafetensors(path);
  applyState(state.model, group(tensors, 'model.'), { strict: true });
  const optimizer = group(tensors, 'optimizer.');
  if (state.optimizer && optimizer.size) state.optimizer.loadStateDict(engineTensors(optimizer));
  // `model_ema.` holds the decay the metadata names (checkpoints without it: the main EMA's);
  // every other decay has its own prefix. A main EMA whose decay is in neither (a run resumed with
  // another --model_ema_decay) takes `model_ema.`, as it always has.
  const savedDecay = metadata[EMA_DECAY_KEY] === undefined ? undefined : Number(metadata[EMA_DECAY_KEY]);
  const emaTensors = (decay: number | undefined, main: boolean): Map<string, StoredTensor> => {
    if (decay !== undefined && decay === savedDecay) return group(tensors, 'model_ema.');
    const own = decay === undefined ? new Map<string, StoredTensor>() : group(tensors, extraEmaPrefix(decay));
    return own.size || !main ? own : group(tensors, 'model_ema.');
  };
  const emas = [...(state.ema ? [{ decay: state.emaDecay, ema: state.ema, main: true }] : []),
    ...(state.extraEmas ?? []).map((e) => ({ ...e, main: false }))];
  for (const { decay, ema, main } of emas) {
    const saved = emaTensors(decay, main);
    if (saved.size) ema.loadStateDict(engineTensors(saved));
  }
  return metadata;
}
