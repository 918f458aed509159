// Live iterations appended to a host-downsampled series, and the point where the host is asked again.
import { describe, expect, it } from 'vitest';
import type { IterationPoint, Series } from '../../../shared/api';
import { epochRows, hostWindow, lineRows, mergeLines, selectionWindow } from '../../src/charts/chartData';
import { appendIterations, needsRefetch, xOf } from '../../src/charts/series';

function point(step: number, loss: number, time = 1000 + step): IterationPoint {
  return {
    epoch: Math.floor(step / 10), step, time, loss, lr: 0.1, weight_decay: 0, grad_norm: null,
    images_per_second: 100, data_seconds: 0.01, step_seconds: 0.1,
  };
}

function emptySeries(metric: Series['metric'], axis: Series['axis']): Series {
  return { metric, axis, x: [], y: [], windowPoints: 0, totalPoints: 0, xMin: null, xMax: null };
}

const hostSeries: Series = { metric: 'loss', axis: 'step', x: [0, 5, 9], y: [2, 1.5, 1.2], windowPoints: 10, totalPoints: 10, xMin: 0, xMax: 9 };

describe('appendIterations', () => {
  it('appends only points after the last x, in order, updating counts and range', () => {
    const out = appendIterations(hostSeries, [point(8, 9), point(9, 9), point(10, 1.1), point(11, 1.0)], {}, 10);
    expect(out.x).toEqual([0, 5, 9, 10, 11]);
    expect(out.y).toEqual([2, 1.5, 1.2, 1.1, 1.0]);
    expect(out.totalPoints).toBe(12);
    expect(out.windowPoints).toBe(12);
    expect(out.xMax).toBe(11);
    expect(hostSeries.x).toEqual([0, 5, 9]);
  });

  it('leaves a window zoomed into the past alone', () => {
    expect(appendIterations(hostSeries, [point(10, 1)], { from: 0, to: 9 }, 10)).toBe(hostSeries);
  });

  it('starts an empty series and places points on the epoch and time axes', () => {
    const epochs = appendIterations(emptySeries('lr', 'epoch'), [point(5, 1), point(15, 1)], {}, 10);
    expect(epochs.x).toEqual([0.5, 1.5]);
    expect(epochs.y).toEqual([0.1, 0.1]);
    expect(epochs.xMin).toBe(0.5);
    expect(xOf(point(3, 1, 1234.5), 'time', null)).toBe(1234.5);
  });

  it('records a missing value (grad_norm null) as a gap', () => {
    const out = appendIterations(emptySeries('grad_norm', 'step'), [point(1, 1)], {}, null);
    expect(out.y[0]).toBeNaN();
  });
});

describe('needsRefetch', () => {
  it('asks the host again once the series holds more than twice the points asked for', () => {
    const long = { ...hostSeries, x: Array.from({ length: 21 }, (_, i) => i) };
    expect(needsRefetch(long, 10)).toBe(true);
    expect(needsRefetch(hostSeries, 10)).toBe(false);
  });
});

describe('chart rows', () => {
  it('keeps the raw value beside the smoothed one and shifts time to seconds since the start', () => {
    const timed: Series = { metric: 'loss', axis: 'time', x: [1000, 1001], y: [1, 3], windowPoints: 2, totalPoints: 2, xMin: 1000, xMax: 1001 };
    const rows = lineRows(timed, { kind: 'moving-average', window: 2 });
    expect(rows).toEqual([{ x: 0, raw: 1, smoothed: 1 }, { x: 1, raw: 3, smoothed: 2 }]);
    expect(hostWindow({ from: 0.5, to: 1 }, timed)).toEqual({ from: 1000.5, to: 1001 });
  });

  it('turns a drag in either direction into a window, and a click into none', () => {
    expect(selectionWindow(8, 3)).toEqual({ from: 3, to: 8 });
    expect(selectionWindow(3, 3)).toBeNull();
  });

  it('takes per-epoch accuracy from log records, newest record per epoch, skipping unevaluated epochs', () => {
    const rows = epochRows([
      { epoch: 0, train_loss: 2 },
      { epoch: 1, test_acc1: 50, test_acc5: 80, ema_test_acc1: null },
      { epoch: 1, test_acc1: 55, test_acc5: 85 },
    ]);
    expect(rows).toEqual([{ epoch: 1, acc1: 55, acc5: 85, emaAcc1: null }]);
  });
});

describe('mergeLines', () => {
  it('puts several lines on the union of their x values, each in its own columns', () => {
    const merged = mergeLines([
      { rows: [{ x: 0, raw: 1, smoothed: 1 }, { x: 2, raw: 3, smoothed: 2 }] },
      { rows: [{ x: 1, raw: 5, smoothed: 5 }, { x: 2, raw: 7, smoothed: 6 }] },
    ]);
    expect(merged).toEqual([
      { x: 0, s0_raw: 1, s0_smoothed: 1 },
      { x: 1, s1_raw: 5, s1_smoothed: 5 },
      { x: 2, s0_raw: 3, s0_smoothed: 2, s1_raw: 7, s1_smoothed: 6 },
    ]);
  });
});
