// Named starting points for a run's configuration, shown as one-click presets in the New-run form
// and accepted by the host like any other partial config. Values only, never logic: each preset is
// a subset of the run flags (shared/config.ts) over the official defaults.
import type { RunConfig } from './config';

export interface RunPreset {
  id: string;
  label: string;
  description: string;
  values: Partial<RunConfig>;
}

/**
 * The embedded digits (resources/demo-digits, 28×28) on a CPU in about two minutes: a tiny PiX
 * network, SGD with momentum, no ImageNet augmentation (a mirrored or erased digit is another
 * glyph). At their own size of 28 the official script resizes nothing (input_size <= 32): training
 * shifts each digit by a random crop of it padded by 4 pixels, evaluation takes it as it is.
 * `pix train` without --data_path applies these over every flag the user did not set.
 */
export const demoDigitsValues: Partial<RunConfig> = {
  model: 'pix_resnet_tiny_cs',
  input_size: 28,
  batch_size: 64,
  epochs: 4,
  opt: 'momentum',
  lr: 0.1,
  min_lr: 1e-4,
  weight_decay: 5e-4,
  warmup_epochs: 0,
  smoothing: 0,
  aa: 'none',
  color_jitter: 0,
  reprob: 0,
  mixup: 0,
  cutmix: 0,
  hflip: 0,
  scale: [0.6, 1],
  test_freq: 1,
  num_workers: 2,
};

export const runPresets: readonly RunPreset[] = [
  {
    id: 'demo-digits',
    label: 'Demo: embedded digits',
    description: 'A tiny PiX network on the embedded 10,000 digits, on the CPU in about two minutes (≥ 97% top-1).',
    values: { ...demoDigitsValues, data_path: '' },
  },
  {
    id: 'pix-published',
    label: 'Published PiX recipe',
    description: 'The public PiX-ResNet50_cs command (SPEC §4): LAMB, lr 3.5e-3, wd 0.35, rand-m7, mixup 0.15, BCE, ' +
      'EMA 0.99996, batch 128 per process on 8 processes (effective 1024).',
    values: {
      model: 'PiXResNet50_cs', lr: 3.5e-3, weight_decay: 0.35, drop: 0.05, opt: 'lamb', aa: 'rand-m7-mstd0.5-inc1',
      mixup: 0.15, bce_loss: true, model_ema: true, model_ema_eval: true, model_ema_decay: 0.99996, batch_size: 128,
      nproc_per_node: 8,
    },
  },
];
