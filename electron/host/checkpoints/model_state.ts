// Moving named tensors between checkpoint files and an engine Model: key-by-key checks with a
// report of missing, unexpected and mismatched keys (strict mode refuses any of them), the
// `module.` prefix of DistributedDataParallel checkpoints, and dtype conversion to what the
// engine holds (f32 weights, i64 counters).
import { loadEngine, type Model, type Tensor } from '../engine/addon';
import { RequestError } from '../request_error';
import type { StoredTensor } from './safetensors';

export interface Mismatch {
  key: string;
  expected: number[];
  actual: number[];
}

export interface StateLoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
  mismatched: Mismatch[];
}

/** Keys as the model names them: DataParallel's `module.` prefix removed when every key has it. */
export function stripModulePrefix(tensors: Map<string, StoredTensor>): Map<string, StoredTensor> {
  const keys = [...tensors.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith('module.'))) return tensors;
  return new Map(keys.map((k) => [k.slice('module.'.length), tensors.get(k)!]));
}

/**
 * The model's tensors in any checkpoint we read: a training checkpoint's `model.` group, or a bare
 * state dict (DataParallel's `module.` prefix removed).
 */
export function modelTensors(tensors: Map<string, StoredTensor>): Map<string, StoredTensor> {
  const group = new Map<string, StoredTensor>();
  for (const [key, value] of tensors) if (key.startsWith('model.')) group.set(key.slice('model.'.length), value);
  return group.size > 0 ? group : stripModulePrefix(tensors);
}

/** An engine tensor from a stored one: floating types become f32, integer types i64. */
export function toEngineTensor(stored: StoredTensor, want: 'f32' | 'i64'): Tensor {
  const { Tensor } = loadEngine();
  const { data, shape } = stored;
  if (want === 'i64') {
    if (data instanceof BigInt64Array) return Tensor.fromArray(data, shape);
    if (data instanceof Float32Array || data instanceof Float64Array) {
      throw new Error(`expected an integer tensor, got ${stored.dtype}`);
    }
    return Tensor.fromArray(BigInt64Array.from(Array.from(data as ArrayLike<number>, (v) => BigInt(v))), shape);
  }
  if (data instanceof Float32Array) return Tensor.fromArray(data, shape);
  if (data instanceof Float64Array) return Tensor.fromArray(data, shape, 'f32');
  throw new Error(`expected a floating-point tensor, got ${stored.dtype}`);
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Copies every matching tensor into the model. Strict: any missing, unexpected or mismatched key
 * throws (nothing is loaded), as a RequestError (400): the checkpoint, or the model asked of it, is
 * what whoever chose them got wrong.
 */
export function applyState(model: Model, tensors: Map<string, StoredTensor>, options: { strict: boolean }): StateLoadReport {
  const entries = model.stateEntries();
  const known = new Set(entries.map((e) => e.key));
  const report: StateLoadReport = { loaded: [], missing: [], unexpected: [], mismatched: [] };
  for (const key of tensors.keys()) if (!known.has(key)) report.unexpected.push(key);
  const plan: { key: string; stored: StoredTensor; want: 'f32' | 'i64' }[] = [];
  for (const entry of entries) {
    const stored = tensors.get(entry.key);
    if (!stored) report.missing.push(entry.key);
    else if (!sameShape(stored.shape, entry.shape)) report.mismatched.push({ key: entry.key, expected: entry.shape, actual: stored.shape });
    else plan.push({ key: entry.key, stored, want: entry.dtype === 'i64' ? 'i64' : 'f32' });
  }
  if (options.strict && (report.missing.length || report.unexpected.length || report.mismatched.length)) {
    throw new RequestError(400, describeProblems(model.name, report));
  }
  for (const { key, stored, want } of plan) {
    const tensor = toEngineTensor(stored, want);
    model.setState(key, tensor);
    tensor.dispose();
    report.loaded.push(key);
  }
  return report;
}

export function describeProblems(modelName: string, report: StateLoadReport): string {
  const lines = [`the checkpoint does not fit ${modelName}:`];
  const list = (keys: string[]) => keys.slice(0, 8).join(', ') + (keys.length > 8 ? `, … (${keys.length} in all)` : '');
  if (report.missing.length) lines.push(`  missing keys: ${list(report.missing)}`);
  if (report.unexpected.length) lines.push(`  unexpected keys: ${list(report.unexpected)}`);
  for (const m of report.mismatched.slice(0, 8)) {
    lines.push(`  '${m.key}': checkpoint has shape [${m.actual.join(',')}], the model expects [${m.expected.join(',')}]`);
  }
  if (report.mismatched.length > 8) lines.push(`  … ${report.mismatched.length} mismatched shapes in all`);
  return lines.join('\n');
}

/** The class count a checkpoint was trained for, from its classifier bias (PiX) or fc bias (ResNet). */
export function classCountOf(tensors: Map<string, StoredTensor>): number | undefined {
  const bias = tensors.get('classifier.bias') ?? tensors.get('fc.bias');
  return bias && bias.shape.length === 1 ? bias.shape[0] : undefined;
}
