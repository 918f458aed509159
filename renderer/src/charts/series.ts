// A chart's view of one run's metric: the host's downsampled window (runSeries, LTTB) plus the
// iterations that arrived live since (runIterations events), appended in x order. Pure functions;
// deciding when to ask the host again is here too, so a growing series is re-downsampled by the
// host instead of thinned here (points are never dropped at random).
import type { IterationPoint, Series, SeriesAxis } from '../../../shared/api';

/** The x range a chart shows; undefined ends follow the data (the live edge). */
export interface XWindow {
  from?: number;
  to?: number;
}

/** Where an iteration sits on an axis: the step, the fractional epoch, or Unix seconds. */
export function xOf(point: IterationPoint, axis: SeriesAxis, stepsPerEpoch: number | null): number {
  switch (axis) {
    case 'step': return point.step;
    case 'time': return point.time;
    case 'epoch': return stepsPerEpoch && stepsPerEpoch > 0 ? point.step / stepsPerEpoch : point.epoch;
  }
}

/**
 * Appends live iterations after the series' last x. Points at or before it are already in the
 * host's answer (the event and the request raced); a zoomed window that ends before the new
 * points leaves the series as it is.
 */
export function appendIterations(
  series: Series,
  points: readonly IterationPoint[],
  window: XWindow,
  stepsPerEpoch: number | null,
): Series {
  const lastX = series.x.length > 0 ? series.x[series.x.length - 1] : -Infinity;
  const x: number[] = [];
  const y: number[] = [];
  for (const point of points) {
    const px = xOf(point, series.axis, stepsPerEpoch);
    if (px <= lastX || (window.to !== undefined && px > window.to)) continue;
    const value = point[series.metric];
    x.push(px);
    y.push(value === null ? NaN : value);
  }
  if (x.length === 0) return series;
  return {
    ...series,
    x: series.x.concat(x),
    y: series.y.concat(y),
    windowPoints: series.windowPoints + x.length,
    totalPoints: series.totalPoints + x.length,
    xMin: series.xMin ?? x[0],
    xMax: Math.max(series.xMax ?? -Infinity, x[x.length - 1]),
  };
}

/**
 * True when the live tail has grown the series well past what the chart asked for: time to let
 * the host downsample the window again rather than draw (or thin) thousands of points here.
 */
export function needsRefetch(series: Series, maxPoints: number): boolean {
  return series.x.length > 2 * maxPoints;
}
