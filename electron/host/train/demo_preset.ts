// `pix train` without --data_path trains on the embedded digits (resources/demo-digits). The
// official defaults target ImageNet on 8 GPUs; for 10,000 28x28 digits on a laptop CPU these
// values replace every default the user did not set explicitly.
import { join } from 'node:path';
import type { RunConfig, RunFlagName } from '../../../shared/config';

export const DEMO_DATASET = join(__dirname, '..', '..', '..', '..', 'resources', 'demo-digits');

const DEMO: Partial<RunConfig> = {
  model: 'pix_resnet_tiny_cs',
  input_size: 16,
  batch_size: 64,
  epochs: 4,
  opt: 'momentum',
  lr: 0.1,
  min_lr: 1e-4,
  weight_decay: 5e-4,
  warmup_epochs: 0,
  smoothing: 0,
  aa: 'none',
  reprob: 0,
  mixup: 0,
  cutmix: 0,
  hflip: 0,  // a mirrored digit is another glyph
  scale: [0.6, 1],
  test_freq: 1,
  num_workers: 2,
};

export function applyDemoPreset(config: RunConfig, given: ReadonlySet<RunFlagName>): RunConfig {
  const out: Record<string, unknown> = { ...config, data_path: DEMO_DATASET };
  for (const [key, value] of Object.entries(DEMO)) if (!given.has(key as RunFlagName)) out[key] = value;
  return out as RunConfig;
}
