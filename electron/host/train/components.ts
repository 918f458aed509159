// What the trainer builds from the run config: the optimizer, and the list of flags whose
// features this build cannot honour yet (refused with a clear message instead of ignored).
import type { RunConfig } from '../../../shared/config';
import { loadEngine, type Model } from '../engine/addon';
import type { Stateful } from './checkpointing';

export interface TrainOptimizer extends Stateful {
  /** One update; returns the gradient norm before clipping when it was computed. */
  step(options: { lr: number; weightDecay: number; clipGrad?: number }): number | null;
}

export function createOptimizer(model: Model, config: RunConfig): TrainOptimizer {
  const engine = loadEngine();
  const sgd = new engine.SgdOptimizer(model, { momentum: config.momentum, nesterov: config.opt === 'sgd' });
  return {
    step: ({ lr, weightDecay }) => {
      sgd.step({ lr, weightDecay });
      return null;
    },
    stateDict: () => ({}),
    loadStateDict: () => {},
  };
}

const DEFAULT_AA = 'rand-m9-mstd0.5-inc1';

/** Flags set to values that need features this build does not have; each line says what to pass instead. */
export function unsupportedFlags(config: RunConfig): string[] {
  const out: string[] = [];
  if (config.opt === 'adamw' || config.opt === 'lamb') out.push(`--opt ${config.opt}: only sgd and momentum are available in this build; pass --opt momentum`);
  if (config.aa && config.aa !== 'none') out.push(`--aa ${config.aa}: RandAugment is not available in this build; pass --aa none${config.aa === DEFAULT_AA ? ' (the default asks for it)' : ''}`);
  if (config.reprob > 0) out.push(`--reprob ${config.reprob}: random erasing is not available in this build; pass --reprob 0`);
  if (config.mixup > 0 || config.cutmix > 0) out.push('--mixup/--cutmix: Mixup and CutMix are not available in this build; pass --mixup 0 --cutmix 0');
  if (config.bce_loss) out.push('--bce_loss: the BCE loss is not available in this build');
  if (config.model_ema) out.push('--model_ema: EMA is not available in this build');
  if (config.clip_grad !== null) out.push('--clip_grad: gradient clipping is not available in this build');
  if (config.device !== 'cpu') out.push(`--device ${config.device}: the networks train on the CPU in this build`);
  if (config.nproc_per_node !== 1) out.push('--nproc_per_node: multi-process training is not available in this build');
  return out;
}
