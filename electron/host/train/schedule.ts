// Per-iteration schedules of the official training script (its utils.cosine_scheduler): a linear
// warm-up from `start` to `base` (numpy.linspace: both ends included), then a cosine from `base`
// to `final` over the remaining iterations. The learning rate uses warm-up; weight decay does not.
export interface CosineSchedule {
  base: number;
  final: number;
  epochs: number;
  itersPerEpoch: number;
  warmupEpochs?: number;
  /** Overrides warmupEpochs when > 0. */
  warmupSteps?: number;
  start?: number;
}

export function cosineSchedule(s: CosineSchedule): Float64Array {
  const total = s.epochs * s.itersPerEpoch;
  const warmup = (s.warmupSteps ?? -1) > 0 ? s.warmupSteps! : (s.warmupEpochs ?? 0) * s.itersPerEpoch;
  if (!Number.isInteger(total) || total <= 0) throw new Error(`the schedule needs at least one iteration, got ${total}`);
  if (warmup > total) throw new Error(`warm-up (${warmup} iterations) is longer than training (${total})`);
  const out = new Float64Array(total);
  const start = s.start ?? 0;
  for (let i = 0; i < warmup; i++) out[i] = warmup === 1 ? start : start + ((s.base - start) * i) / (warmup - 1);
  const rest = total - warmup;
  for (let i = 0; i < rest; i++) out[warmup + i] = s.final + 0.5 * (s.base - s.final) * (1 + Math.cos((Math.PI * i) / rest));
  return out;
}
