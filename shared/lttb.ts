// Largest-Triangle-Three-Buckets downsampling (Steinarsson, 2013): keeps the first and last points
// and, from each of the maxPoints - 2 equal-count buckets in between, the point that spans the
// largest triangle with the point kept before it and the mean of the next bucket. It preserves a
// curve's peaks and shape far better than striding. Pure and allocation-light (one index array),
// so the host runs it over a million points per request and the renderer may reuse it; it does
// not sort, filter NaNs or window the data: callers pass finite values with x ascending.

/**
 * Indices into x/y of the points to keep from [start, end): all of them when there are at most
 * maxPoints, otherwise exactly maxPoints (>= 2), ascending.
 */
export function lttbIndices(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints: number,
  start = 0, end = Math.min(x.length, y.length)): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new Error(`lttb: maxPoints must be an integer >= 2, got ${maxPoints}`);
  const count = end - start;
  if (count <= 0) return [];
  if (count <= maxPoints) return Array.from({ length: count }, (_, i) => start + i);

  const kept: number[] = [start];
  // The inner points [start + 1, end - 1) split into maxPoints - 2 buckets of (fractional) equal size.
  const bucketSize = (count - 2) / (maxPoints - 2);
  let previous = start;
  for (let bucket = 0; bucket < maxPoints - 2; bucket++) {
    const from = start + 1 + Math.floor(bucket * bucketSize);
    const to = start + 1 + Math.floor((bucket + 1) * bucketSize);
    // The next bucket's mean; after the last bucket that is the last point itself.
    const nextFrom = to;
    const nextTo = bucket === maxPoints - 3 ? end : start + 1 + Math.floor((bucket + 2) * bucketSize);
    let meanX = 0;
    let meanY = 0;
    for (let i = nextFrom; i < nextTo; i++) {
      meanX += x[i]!;
      meanY += y[i]!;
    }
    const nextCount = nextTo - nextFrom;
    meanX /= nextCount;
    meanY /= nextCount;

    const ax = x[previous]!;
    const ay = y[previous]!;
    let best = from;
    let bestArea = -1;
    for (let i = from; i < to; i++) {
      // Twice the triangle's area; the factor does not change which point wins.
      const area = Math.abs((ax - meanX) * (y[i]! - ay) - (ax - x[i]!) * (meanY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    kept.push(best);
    previous = best;
  }
  kept.push(end - 1);
  return kept;
}
