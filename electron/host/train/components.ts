// What the trainer builds from the run config, as the official script builds it: the optimizer
// (timm's create_optimizer choices), the loss (BCE or soft-target CE with Mixup/CutMix, else
// label-smoothing CE), the Mixup/CutMix draw, and the list of flag values this build or this
// config cannot honour (refused with a clear message instead of ignored). Targets and losses run on
// the device of the labels and logits they are given.
import type { RunConfig } from '../../../shared/config';
import { engineInfo, loadEngine, type LossResult, type MixupConfig, type Model, type OptimizerType, type Tensor } from '../engine/addon';
import type { Stateful } from './checkpointing';
import { deviceProblem } from './cuda_device';
import { realLabelsProblems } from './real_labels';

export interface TrainOptimizer extends Stateful {
  /** One update; returns the global gradient norm before clipping. */
  step(options: { lr: number; weightDecay: number; clipGrad: number | null }): number;
  /** Frees its state (momentum, moments) now; the model keeps its parameters. */
  dispose(): void;
}

export function createOptimizer(model: Model, config: RunConfig): TrainOptimizer {
  const betas = config.opt_betas;
  if (betas && betas.length !== 2) throw new Error(`--opt_betas takes two numbers, got ${betas.length}`);
  const optimizer = new (loadEngine().Optimizer)(model, {
    type: config.opt as OptimizerType,  // the run-config schema admits only these names
    momentum: config.momentum, eps: config.opt_eps, ...(betas ? { betas: [betas[0]!, betas[1]!] as [number, number] } : {}),
  });
  return {
    step: (options) => optimizer.step(options).gradNorm,
    stateDict: () => optimizer.stateDict(),
    loadStateDict: (state) => optimizer.loadStateDict(state),
    dispose: () => optimizer.dispose(),
  };
}

export function mixupActive(config: RunConfig): boolean {
  return config.mixup > 0 || config.cutmix > 0 || config.cutmix_minmax !== null;
}

export function mixupConfig(config: RunConfig): MixupConfig {
  const minmax = config.cutmix_minmax;
  if (minmax && minmax.length !== 2) throw new Error(`--cutmix_minmax takes two numbers, got ${minmax.length}`);
  return { mixupAlpha: config.mixup, cutmixAlpha: config.cutmix, cutmixMinmax: minmax ? [minmax[0]!, minmax[1]!] : null,
    prob: config.mixup_prob, switchProb: config.mixup_switch_prob, correctLam: true };
}

/** The batch's targets (N,K) and the loss the official script would use for this config. */
export function lossFor(config: RunConfig, classes: number): { targets(labels: Tensor, lam: number): Tensor; loss(logits: Tensor, targets: Tensor): LossResult } {
  const engine = loadEngine();
  if (mixupActive(config)) {
    return {
      targets: (labels, lam) => engine.mixupTargets(labels, classes, { lam, smoothing: config.smoothing }),
      loss: config.bce_loss
        ? (logits, targets) => engine.binaryCrossEntropy(logits, targets, { targetThreshold: config.bce_target_thresh })
        : (logits, targets) => engine.crossEntropy(logits, targets),
    };
  }
  // Without mixup: label-smoothing CE (plain CE at smoothing 0) as soft-target CE on smoothed one-hots.
  return {
    targets: (labels) => engine.smoothOneHot(labels, classes, config.smoothing),
    loss: (logits, targets) => engine.crossEntropy(logits, targets),
  };
}

/** Flags set to values that need features this build does not have; each line says what to pass instead. */
export function unsupportedFlags(config: RunConfig): string[] {
  // --data_set CIFAR and dataset mistakes are refused where the folders are resolved (data/datasets.ts).
  const out: string[] = [...realLabelsProblems(config)];
  if (mixupActive(config) && config.mixup_mode !== 'batch') out.push(`--mixup_mode ${config.mixup_mode}: only 'batch' is available`);
  if (mixupActive(config) && config.batch_size % 2 !== 0) out.push(`--batch_size ${config.batch_size}: Mixup/CutMix pair each image with another, so the batch size must be even`);
  const decays = config.model_ema ? [config.model_ema_decay, ...(config.model_ema_decays ?? [])] : [];
  const repeated = decays.find((d, i) => decays.indexOf(d) !== i);
  if (repeated !== undefined) {
    // Checkpoints keep every EMA under its decay (checkpointing.ts), so two of one decay would collide.
    out.push(`--model_ema_decays ${config.model_ema_decays!.join(' ')}: decay ${repeated} is kept twice (--model_ema_decay is ` +
      `${config.model_ema_decay}); give each decay once`);
  }
  const deviceIssue = deviceProblem(config.device, engineInfo().backends.cuda);
  if (deviceIssue) out.push(`--device ${config.device}: ${deviceIssue}`);
  else if (config.device !== 'cpu' && config.nproc_per_node * config.nnodes > 1) {
    // Several processes on CUDA average their gradients through NCCL, opened at run time.
    const nccl = loadEngine().ncclLibraryStatus();
    if (!nccl.available) {
      out.push(`--device ${config.device}: several processes on CUDA need NCCL: ${nccl.reason}; ` +
        'or pass --nproc_per_node 1 --nnodes 1, or --device cpu for data parallelism on the CPU');
    }
  }
  return out;
}
