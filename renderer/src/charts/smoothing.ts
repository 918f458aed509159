// Smoothing of a noisy training curve, as TensorBoard does it: a debiased exponential moving
// average (the zero-initialised average divided by 1 − wⁿ, so the first points are not dragged
// towards 0) or a trailing moving average. Pure functions over plain arrays; not a filter
// library, and never applied to the raw series the chart also draws.

export type Smoothing =
  | { kind: 'none' }
  /** weight in [0, 1): 0 = no smoothing, 0.99 = very smooth. */
  | { kind: 'ema'; weight: number }
  /** window ≥ 1 points, the current one included. */
  | { kind: 'moving-average'; window: number };

/**
 * TensorBoard's smoothing: last = last·w + (1 − w)·y from last = 0, shown as last / (1 − wⁿ) with
 * n the finite values so far. Non-finite values (a diverged loss) pass through unsmoothed and do
 * not poison the average.
 */
export function debiasedEma(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new Error(`EMA weight must be in [0, 1), got ${weight}`);
  const out = new Array<number>(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i];
    if (!Number.isFinite(y)) {
      out[i] = y;
      continue;
    }
    last = last * weight + (1 - weight) * y;
    count++;
    out[i] = last / (1 - weight ** count);
  }
  return out;
}

/** Mean of the last `window` finite values up to and including each point (fewer at the start). */
export function movingAverage(values: readonly number[], window: number): number[] {
  if (!Number.isInteger(window) || window < 1) throw new Error(`moving-average window must be a whole number ≥ 1, got ${window}`);
  const out = new Array<number>(values.length);
  // A running sum over the finite values in the window; non-finite ones are skipped, not summed.
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i];
    if (Number.isFinite(y)) {
      sum += y;
      finite++;
    }
    const leaving = i - window >= 0 ? values[i - window] : NaN;
    if (Number.isFinite(leaving)) {
      sum -= leaving;
      finite--;
    }
    out[i] = Number.isFinite(y) ? (finite > 0 ? sum / finite : y) : y;
  }
  return out;
}

export function smooth(values: readonly number[], smoothing: Smoothing): number[] {
  switch (smoothing.kind) {
    case 'none': return values.slice();
    case 'ema': return debiasedEma(values, smoothing.weight);
    case 'moving-average': return movingAverage(values, smoothing.window);
  }
}
