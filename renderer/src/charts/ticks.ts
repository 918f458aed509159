// Round axis ticks (1, 2 or 5 × 10ᵏ apart) and labels with exactly the digits the step needs.
// recharts' own 'auto' ticks on a narrow range come out as 0.09945, 0.0986…, and it keys tick
// labels by their text, so labels that round alike leave stale ticks behind; these never do.
// Pure; the charts pass the result as explicit domain and ticks.

export interface AxisTicks {
  domain: [number, number];
  ticks: number[];
  format: (value: number) => string;
}

/** The round step (1, 2, 5 × 10ᵏ) nearest above span / intervals. */
export function niceStep(span: number, intervals: number): number {
  const raw = span / Math.max(1, intervals);
  const power = 10 ** Math.floor(Math.log10(raw));
  // A hair of tolerance: 4e-5 / 4 is 1.0000000000000001e-5 in floating point, and means 1e-5.
  const fraction = raw / power - 1e-9;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/**
 * Ticks over [min, max]. `extend` widens the domain to the outer ticks (a value axis); otherwise
 * the domain stays [min, max] and only ticks inside it are kept (an x axis that is zoomed).
 * A flat range (one value) is widened around it so the ticks stay distinct. `integer`: the axis
 * counts whole things (steps, images), so no tick falls between two of them.
 */
export function axisTicks(min: number, max: number, intervals = 4, extend = true, integer = false): AxisTicks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { domain: [0, 1], ticks: [0, 1], format: String };
  if (max - min <= 1e-9 * Math.max(Math.abs(min), Math.abs(max))) {
    const pad = Math.abs(min) * 0.05 || 1;
    [min, max] = [min - pad, max + pad];
  }
  const step = integer ? Math.max(1, niceStep(max - min, intervals)) : niceStep(max - min, intervals);
  // The same hair of tolerance: 4e-5 / 1e-5 is 4.000000000000001, which is the tick 4, not 5.
  const below = (x: number) => Math.floor(x + 1e-9);
  const above = (x: number) => Math.ceil(x - 1e-9);
  const lo = (extend ? below(min / step) : above(min / step)) * step;
  const hi = (extend ? above(max / step) : below(max / step)) * step;
  const ticks: number[] = [];
  // Multiples of the step computed from integers, so 0.1 + 0.2 never prints as 0.30000000000000004.
  for (let k = Math.round(lo / step); k <= Math.round(hi / step); k++) ticks.push(k * step || 0);  // || 0: never -0
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const tiny = Math.max(Math.abs(lo), Math.abs(hi)) < 1e-3 || step >= 1e6;
  const exponentDigits = (value: number) => Math.max(0, Math.floor(Math.log10(Math.abs(value)) + 1e-9) - Math.floor(Math.log10(step) + 1e-9));
  // One formatter per axis: toLocaleString builds a new one per call, and recharts formats every
  // tick on each redraw (during training that was a chart's largest cost).
  const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: decimals });
  const format = (value: number) =>
    tiny
      ? value === 0 ? '0' : value.toExponential(exponentDigits(value))
      : grouped.format(Number(value.toFixed(decimals)));
  return { domain: extend ? [lo, hi] : [min, max], ticks, format };
}

/** Average advance of a digit, comma or point in the UI's sans-serif, as a fraction of its size. */
const digitWidth = 0.62;

/**
 * Pixels a value axis needs for its widest tick label at `fontSize`, plus the tick mark's gap.
 * A fixed width clipped the learning rate's first steps ("0.099999" showed as ").099999").
 */
export function axisWidth(axis: AxisTicks, fontSize = 11): number {
  const widest = Math.max(1, ...axis.ticks.map((tick) => axis.format(tick).length));
  return Math.max(32, Math.ceil(widest * fontSize * digitWidth) + 12);
}
