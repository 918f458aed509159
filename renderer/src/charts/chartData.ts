// Turns series into the rows recharts draws: one row per point with the raw value and the smoothed
// one, on a display x that may be shifted (the time axis shows seconds since each run's first
// point, so runs started on different days overlay). Pure; no React, no recharts.
import type { EpochRecord, Series, SeriesAxis } from '../../../shared/api';
import { smooth, type Smoothing } from './smoothing';
import type { XWindow } from './series';

export interface LineRow {
  x: number;
  raw: number | null;
  smoothed: number | null;
}

/** The offset subtracted from a series' x for display: its first x on the time axis, else 0. */
export function displayOffset(series: Series): number {
  return series.axis === 'time' ? (series.xMin ?? 0) : 0;
}

export function lineRows(series: Series, smoothing: Smoothing): LineRow[] {
  const offset = displayOffset(series);
  const smoothed = smooth(series.y, smoothing);
  return series.x.map((x, i) => ({
    x: x - offset,
    raw: Number.isFinite(series.y[i]) ? series.y[i] : null,
    smoothed: Number.isFinite(smoothed[i]) ? smoothed[i] : null,
  }));
}

/** A zoom selected on the display axis, as the window to request of one series' host data. */
export function hostWindow(display: XWindow, series: Series | null): XWindow {
  const offset = series ? displayOffset(series) : 0;
  return {
    from: display.from === undefined ? undefined : display.from + offset,
    to: display.to === undefined ? undefined : display.to + offset,
  };
}

/** A drag from a to b in either direction; null when it is too narrow to be a zoom. */
export function selectionWindow(a: number, b: number): XWindow | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return null;
  return { from: Math.min(a, b), to: Math.max(a, b) };
}

export const axisLabels: Record<SeriesAxis, string> = {
  step: 'Step',
  epoch: 'Epoch',
  time: 'Time since start (s)',
};

export interface EpochRow {
  epoch: number;
  acc1: number | null;
  acc5: number | null;
  emaAcc1: number | null;
}

/** Per-epoch accuracy from the official log records; epochs without an evaluation are left out. */
export function epochRows(records: readonly EpochRecord[]): EpochRow[] {
  const byEpoch = new Map<number, EpochRow>();
  for (const record of records) {
    const row: EpochRow = {
      epoch: record.epoch,
      acc1: record.test_acc1 ?? null,
      acc5: record.test_acc5 ?? null,
      emaAcc1: record.ema_test_acc1 ?? null,
    };
    if (row.acc1 === null && row.acc5 === null && row.emaAcc1 === null) continue;
    // A resumed run may log an epoch again; the newest record wins.
    byEpoch.set(record.epoch, row);
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}

/** One drawn line pair (raw and smoothed) of a chart, before merging. */
export interface LineInput {
  rows: readonly LineRow[];
}

export type MergedRow = { x: number } & Record<string, number | null>;

/**
 * Several lines (runs, or metrics of one run) as one table on the union of their x values, with
 * columns `s{i}_raw` and `s{i}_smoothed`; a line without a point at some x has no entry there (the
 * chart connects across). One table keeps the tooltip and the drag-to-zoom on a single x axis.
 */
export function mergeLines(lines: readonly LineInput[]): MergedRow[] {
  const byX = new Map<number, MergedRow>();
  lines.forEach((line, i) => {
    for (const row of line.rows) {
      let merged = byX.get(row.x);
      if (!merged) {
        merged = { x: row.x } as MergedRow;
        byX.set(row.x, merged);
      }
      merged[`s${i}_raw`] = row.raw;
      merged[`s${i}_smoothed`] = row.smoothed;
    }
  });
  return [...byX.values()].sort((a, b) => a.x - b.x);
}
