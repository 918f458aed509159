// What a checkpoint records about the run that made it: the workbench's run config (safetensors
// metadata `config`, JSON), or the official script's args (a .pth's argparse.Namespace, read as a
// plain object, or the JSON string that `pix convert` leaves in safetensors metadata). Read for what
// inference must repeat: the input normalisation, which --imagenet_default_mean_and_std chose at
// training time. A checkpoint that does not record it was trained with the ImageNet mean and std,
// the official default.
import { IMAGENET_DEFAULT, normalizationFor, type Normalization } from '../data/transforms';

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The run config or args a checkpoint's metadata holds, or null. */
export function savedRunConfig(metadata: Record<string, unknown>): Record<string, unknown> | null {
  if (typeof metadata.config === 'string') {
    const config = parseObject(metadata.config);
    if (config) return config;
  }
  const { args } = metadata;
  if (typeof args === 'string') return parseObject(args);
  return args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : null;
}

export interface CheckpointNormalization {
  normalization: Normalization;
  /** The checkpoint records --imagenet_default_mean_and_std (else the ImageNet default is assumed). */
  recorded: boolean;
}

/** The normalisation a checkpoint's network was trained with. */
export function checkpointNormalization(metadata: Record<string, unknown>): CheckpointNormalization {
  const flag = savedRunConfig(metadata)?.imagenet_default_mean_and_std;
  if (typeof flag === 'boolean') return { normalization: normalizationFor(flag), recorded: true };
  return { normalization: IMAGENET_DEFAULT, recorded: false };
}

/** "mean 0.5,0.5,0.5 std 0.5,0.5,0.5", for messages. */
export function describeNormalization({ mean, std }: Normalization): string {
  return `mean ${mean.join(',')} std ${std.join(',')}`;
}
