// A run's per-iteration metrics (metrics.jsonl) held as columns: one growable Float64Array per
// metric plus step, time and the epoch axis, filled incrementally from the file. A chart request
// takes a window [from, to] on one axis (binary search, x is ascending) and downsamples it with
// LTTB (shared/lttb.ts), so a million-point run answers in milliseconds. Not a cache of requests:
// each request downsamples afresh from the columns.
//
// x stays ascending because a resumed run repeats steps after its last checkpoint: an appended
// point that goes back to a step already completed replaces the points from that step on (the
// attempt that got lost is not what the weights went on from).
import { join } from 'node:path';
import { iterationMetricNames, type IterationMetricName, type IterationPoint, type Series, type SeriesAxis } from '../../../shared/api';
import { lttbIndices } from '../../../shared/lttb';
import { JsonLinesReader } from './jsonl_reader';

type Column = IterationMetricName | 'step' | 'epoch' | 'time';
const COLUMNS: readonly Column[] = ['step', 'epoch', 'time', ...iterationMetricNames];

export interface SeriesWindow {
  metric: IterationMetricName;
  axis: SeriesAxis;
  from?: number | undefined;
  to?: number | undefined;
  maxPoints: number;
}

export class MetricColumns {
  private columns = new Map<Column, Float64Array>(COLUMNS.map((c) => [c, new Float64Array(1024)]));
  length = 0;

  column(name: Column): Float64Array {
    return this.columns.get(name)!.subarray(0, this.length);
  }

  append(point: IterationPoint): void {
    const steps = this.columns.get('step')!;
    const last = this.length - 1;
    // A step seen again after it completed (it has a gradient norm: its last micro-batch) is a resumed
    // attempt; accumulation micro-batches of one step share the step but come before its norm.
    const repeated = last >= 0 && (point.step < steps[last]! || (point.step === steps[last]! && !Number.isNaN(this.columns.get('grad_norm')![last]!)));
    if (repeated) this.length = this.firstIndexAtOrAfter('step', point.step);
    if (this.length === steps.length) this.grow();
    for (const name of COLUMNS) {
      const value = point[name];
      this.columns.get(name)![this.length] = typeof value === 'number' && Number.isFinite(value) ? value : NaN;
    }
    this.length++;
  }

  clear(): void {
    this.length = 0;
  }

  /** The first index whose value in an ascending column is >= v (length when none). */
  firstIndexAtOrAfter(name: Column, v: number): number {
    const values = this.columns.get(name)!;
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index whose value is > v. */
  firstIndexAfter(name: Column, v: number): number {
    const values = this.columns.get(name)!;
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    for (const name of COLUMNS) {
      const bigger = new Float64Array(this.columns.get(name)!.length * 2);
      bigger.set(this.columns.get(name)!);
      this.columns.set(name, bigger);
    }
  }
}

/** The chart axis of a point: the epoch axis is epoch + the fraction of the epoch's steps done. */
function epochAxis(point: IterationPoint, itersPerEpoch: number | null): number {
  if (!itersPerEpoch) return point.epoch;
  return point.epoch + (point.step - point.epoch * itersPerEpoch) / itersPerEpoch;
}

/** metrics.jsonl of one run folder, read incrementally into columns. */
export class RunSeries {
  readonly columns = new MetricColumns();
  private readonly reader: JsonLinesReader<IterationPoint>;

  constructor(outputDir: string, private readonly itersPerEpoch: () => number | null) {
    this.reader = new JsonLinesReader(join(outputDir, 'metrics.jsonl'));
  }

  /** Reads what was appended since the last call; returns the new points. */
  refresh(): IterationPoint[] {
    const update = this.reader.read();
    if (update.restarted) this.columns.clear();
    const perEpoch = this.itersPerEpoch();
    for (const point of update.lines) this.columns.append({ ...point, epoch: epochAxis(point, perEpoch) });
    return update.lines;
  }

  window(request: SeriesWindow): Series {
    this.refresh();
    return seriesWindow(this.columns, request);
  }
}

export function seriesWindow(columns: MetricColumns, { metric, axis, from, to, maxPoints }: SeriesWindow): Series {
  const xs = columns.column(axis);
  const ys = columns.column(metric);
  const total = columns.length;
  const start = from === undefined ? 0 : columns.firstIndexAtOrAfter(axis, from);
  const end = to === undefined ? total : columns.firstIndexAfter(axis, to);
  // Points without a value (grad_norm on accumulation micro-steps) are left out before downsampling.
  let x: ArrayLike<number> = xs;
  let y: ArrayLike<number> = ys;
  let lo = start;
  let hi = Math.max(start, end);
  let gaps = false;
  for (let i = lo; i < hi && !gaps; i++) gaps = Number.isNaN(ys[i]!);
  if (gaps) {
    const keepX: number[] = [];
    const keepY: number[] = [];
    for (let i = lo; i < hi; i++) {
      if (Number.isNaN(ys[i]!)) continue;
      keepX.push(xs[i]!);
      keepY.push(ys[i]!);
    }
    x = keepX;
    y = keepY;
    lo = 0;
    hi = keepX.length;
  }
  const kept = lttbIndices(x, y, maxPoints, lo, hi);
  return {
    metric, axis,
    x: kept.map((i) => x[i]!),
    y: kept.map((i) => y[i]!),
    windowPoints: hi - lo,
    totalPoints: total,
    xMin: total ? xs[0]! : null,
    xMax: total ? xs[total - 1]! : null,
  };
}
