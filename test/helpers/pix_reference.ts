// PiX written independently of the engine, in float64, straight from SPEC §2. Arrays are flat in
// the given layout: x (N,H,W,C) or (N,C,H,W); p (N,K); y (N,H,W,K) or (N,K,H,W).
export interface PixCase {
  n: number;
  c: number;
  h: number;
  w: number;
  zeta: number;
  tau: number;
  layout: 'nhwc' | 'nchw';
}

export function subsets(c: number, zeta: number): number {
  return Math.ceil(c / zeta);
}

function indexer(s: PixCase, channels: number) {
  const hw = s.h * s.w;
  return s.layout === 'nhwc'
    ? (n: number, ch: number, q: number) => (n * hw + q) * channels + ch
    : (n: number, ch: number, q: number) => (n * channels + ch) * hw + q;
}

export function pixForwardReference(s: PixCase, x: ArrayLike<number>, p: ArrayLike<number>): Float64Array {
  const k = subsets(s.c, s.zeta);
  const hw = s.h * s.w;
  const xi = indexer(s, s.c);
  const yi = indexer(s, k);
  const y = new Float64Array(s.n * k * hw);
  for (let n = 0; n < s.n; n++)
    for (let j = 0; j < k; j++) {
      const gate = p[n * k + j];
      const members = channelsOf(j, s);
      for (let q = 0; q < hw; q++) {
        const values = members.map((ch) => x[xi(n, ch, q)]);
        const selected = gate < s.tau ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / s.zeta;
        y[yi(n, j, q)] = gate * selected;
      }
    }
  return y;
}

export function pixBackwardReference(
  s: PixCase, x: ArrayLike<number>, p: ArrayLike<number>, dy: ArrayLike<number>,
): { dx: Float64Array; dp: Float64Array } {
  const k = subsets(s.c, s.zeta);
  const hw = s.h * s.w;
  const xi = indexer(s, s.c);
  const yi = indexer(s, k);
  const dx = new Float64Array(s.n * s.c * hw);
  const dp = new Float64Array(s.n * k);
  for (let n = 0; n < s.n; n++)
    for (let j = 0; j < k; j++) {
      const gate = p[n * k + j];
      const members = channelsOf(j, s);
      for (let q = 0; q < hw; q++) {
        const g = dy[yi(n, j, q)];
        const values = members.map((ch) => x[xi(n, ch, q)]);
        if (gate < s.tau) {
          const best = Math.max(...values);
          const first = members[values.indexOf(best)];  // the first channel holding the maximum
          dp[n * k + j] += g * best;
          dx[xi(n, first, q)] += gate * g;
        } else {
          dp[n * k + j] += g * values.reduce((a, b) => a + b, 0) / s.zeta;
          for (const ch of members) dx[xi(n, ch, q)] += (gate * g) / s.zeta;
        }
      }
    }
  return { dx, dp };
}

function channelsOf(subset: number, s: PixCase): number[] {
  const first = subset * s.zeta;
  const last = Math.min(first + s.zeta, s.c);
  return Array.from({ length: last - first }, (_, i) => first + i);
}

export function xShape(s: PixCase): number[] {
  return s.layout === 'nhwc' ? [s.n, s.h, s.w, s.c] : [s.n, s.c, s.h, s.w];
}

export function yShape(s: PixCase): number[] {
  const k = subsets(s.c, s.zeta);
  return s.layout === 'nhwc' ? [s.n, s.h, s.w, k] : [s.n, k, s.h, s.w];
}
