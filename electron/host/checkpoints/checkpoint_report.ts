// The checkpoint inspector's reads: what a file holds (format, metadata as strings, per-tensor
// statistics, the engine model it fits and its class count), one tensor's histogram, and the
// differences between two checkpoints (keys on one side only, shape changes, and per shared
// tensor the largest absolute and the relative L2 change). Reads files; runs no network.
import { statSync } from 'node:fs';
import type { CheckpointDiff, CheckpointInfo, Histogram } from '../../../shared/api';
import { matchModel, type CatalogEntry } from '../engine/model_catalog';
import { RequestError } from '../request_error';
import { readCheckpointTensors } from './pth/read_checkpoint';
import type { StoredTensor } from './safetensors';
import { histogram, tensorStats } from './tensor_stats';

function jsonText(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** safetensors metadata as it is; a .pth's epoch and args flattened to 'epoch', 'args.lr', … */
function flatten(metadata: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, v] of Object.entries(value)) out[`${key}.${inner}`] = typeof v === 'string' ? v : jsonText(v);
    } else {
      out[key] = typeof value === 'string' ? value : jsonText(value);
    }
  }
  return out;
}

export function inspectCheckpoint(path: string, catalog: CatalogEntry[]): CheckpointInfo {
  const { format, tensors, metadata } = readCheckpointTensors(path);
  const stats = [...tensors].map(([name, tensor]) => tensorStats(name, tensor));
  const { model, classes } = matchModel(catalog, tensors);
  return {
    path, format, bytes: statSync(path).size, metadata: flatten(metadata), model, classes, tensors: stats,
    totals: { tensors: stats.length, elements: stats.reduce((sum, s) => sum + s.elements, 0) },
  };
}

export function tensorHistogram(path: string, name: string, bins: number): Histogram {
  const { tensors } = readCheckpointTensors(path);
  const tensor = tensors.get(name);
  if (!tensor) throw new RequestError(404, `${path} has no tensor named '${name}'`);
  return histogram(tensor.data, bins);
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function change(a: StoredTensor, b: StoredTensor): { maxAbsDiff: number; relativeL2: number } {
  let maxAbsDiff = 0;
  let diffSquares = 0;
  let baseSquares = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = Number(a.data[i]!);
    const d = Number(b.data[i]!) - x;
    if (Math.abs(d) > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = Math.abs(d);
    diffSquares += d * d;
    baseSquares += x * x;
  }
  const relativeL2 = diffSquares === 0 ? 0 : baseSquares === 0 ? Infinity : Math.sqrt(diffSquares / baseSquares);
  return { maxAbsDiff, relativeL2 };
}

export function diffCheckpoints(pathA: string, pathB: string): CheckpointDiff {
  const a = readCheckpointTensors(pathA).tensors;
  const b = readCheckpointTensors(pathB).tensors;
  const diff: CheckpointDiff = { onlyInA: [], onlyInB: [...b.keys()].filter((k) => !a.has(k)), shapeMismatch: [], changed: [], identical: 0 };
  for (const [name, tensorA] of a) {
    const tensorB = b.get(name);
    if (!tensorB) diff.onlyInA.push(name);
    else if (!sameShape(tensorA.shape, tensorB.shape)) diff.shapeMismatch.push({ name, shapeA: tensorA.shape, shapeB: tensorB.shape });
    else {
      const delta = change(tensorA, tensorB);
      if (delta.maxAbsDiff === 0) diff.identical++;
      else diff.changed.push({ name, ...delta });
    }
  }
  // JSON has no Infinity: a change from an all-zero tensor sorts first and is reported as the largest finite number.
  diff.changed.sort((x, y) => y.relativeL2 - x.relativeL2);
  for (const c of diff.changed) if (!Number.isFinite(c.relativeL2)) c.relativeL2 = Number.MAX_VALUE;
  return diff;
}
