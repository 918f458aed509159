// Training checkpoints: checkpoint-{epoch}.safetensors in the run's output folder holding the
// model (`model.` keys), the optimizer state (`optimizer.`), the EMA weights (`model_ema.`, and
// `model_ema_<decay>.` for each extra decay), and metadata (epoch, the run config as JSON). Writes
// are atomic (temporary file, fsync, rename), so
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

export function saveCheckpoint(path: string, state: TrainingState, metadata: Record<string, string>): void {
  const tensors = new Map<string, TensorToWrite>();
  for (const entry of state.model.stateEntries()) {
    const value = state.model.getState(entry.key);
    tensors.set(`model.${entry.key}`, toWrite(value));
    value.dispose();
  }
  if (state.optimizer) collect('optimizer.', state.optimizer.stateDict(), tensors);
  if (state.ema) collect('model_ema.', state.ema.stateDict(), tensors);
  for (const { decay, ema } of state.extraEmas ?? []) collect(extraEmaPrefix(decay), ema.stateDict(), tensors);
  writeSafetensors(path, tensors, { ...metadata, model: state.model.name, num_classes: String(state.model.numClasses) });
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
  const ema = group(tensors, 'model_ema.');
  if (state.ema && ema.size) state.ema.loadStateDict(engineTensors(ema));
  for (const extra of state.extraEmas ?? []) {
    const saved = group(tensors, extraEmaPrefix(extra.decay));
    if (saved.size) extra.ema.loadStateDict(engineTensors(saved));
  }
  return metadata;
}
