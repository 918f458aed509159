// Value statistics of stored tensors, in float64: min, max, mean and unbiased std (as torch.std),
// and equal-width histograms. Shared by `pix inspect` and the workbench's checkpoint inspector.
// Reads StoredTensor data as it is (any dtype, bigint counters included); knows nothing of models.
import type { Histogram, TensorStats } from '../../../shared/api';
import type { StoredTensor } from './safetensors';

export interface TensorSummary {
  name: string;
  shape: number[];
  dtype: string;
  /** NaN (null in JSON) for an empty tensor; std also for a single value, as torch.std gives. */
  min: number;
  max: number;
  mean: number;
  std: number;
}

/** Statistics in float64; std is unbiased, as torch.std computes it. */
export function summarize(name: string, { shape, dtype, data }: StoredTensor): TensorSummary {
  const n = data.length;
  const at = (i: number) => Number(data[i]!);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = at(i);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = n ? sum / n : NaN;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (at(i) - mean) ** 2;
  return { name, shape, dtype, min: n ? min : NaN, max: n ? max : NaN, mean, std: n > 1 ? Math.sqrt(squares / (n - 1)) : NaN };
}

const orNull = (v: number) => (Number.isFinite(v) ? v : null);

/** The contract's form: NaN and infinities become null (JSON has neither). */
export function tensorStats(name: string, tensor: StoredTensor): TensorStats {
  const s = summarize(name, tensor);
  return { name, shape: s.shape, dtype: s.dtype, elements: tensor.data.length,
    min: orNull(s.min), max: orNull(s.max), mean: orNull(s.mean), std: orNull(s.std) };
}

/**
 * Counts of the finite values in `bins` equal-width bins from min to max (the last bin includes
 * max); `range` fixes the edges instead (values outside are not counted). A constant tensor gets
 * bins around its value.
 */
export function histogram(values: ArrayLike<number | bigint>, bins: number, range?: [number, number]): Histogram {
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`histogram: bins must be a positive integer, got ${bins}`);
  let low = Infinity;
  let high = -Infinity;
  if (range) {
    [low, high] = range;
  } else {
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]!);
      if (!Number.isFinite(v)) continue;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    if (low === Infinity) return { edges: [], counts: [] };
    if (low === high) {
      low -= 0.5;
      high += 0.5;
    }
  }
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? high : low + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]!);
    if (!(v >= low && v <= high)) continue;  // also drops NaN
    counts[Math.min(bins - 1, Math.floor((v - low) / width))]!++;
  }
  return { edges, counts };
}
