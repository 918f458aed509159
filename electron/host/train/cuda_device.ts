// Where `pix train` runs: --device cpu, cuda or cuda:N checked against what the engine reports
// (a CUDA build that sees that device), and the model's placement there: bf16 activations over
// f32 master weights with --use_amp on CUDA (the engine's mixed precision), f32 otherwise.
// Several GPUs in one run: each rank's --device cuda becomes cuda:LOCAL_RANK (distributed/nccl_group.ts).
import type { RunConfig } from '../../../shared/config';
import type { CudaBackendInfo } from '../../../shared/engine';

export interface Placement {
  /** 'cpu' or 'cuda:N' ('cuda' means cuda:0). */
  device: string;
  activations: 'f32' | 'bf16';
}

/** Why `device` cannot run networks with this engine, or null when it can. */
export function deviceProblem(device: string, cuda: CudaBackendInfo): string | null {
  if (device === 'cpu') return null;
  const match = /^cuda(?::(\d+))?$/.exec(device);
  if (!match) return `'${device}' is not cpu, cuda or cuda:N`;
  if (!cuda.compiled) return `${cuda.unavailableReason ?? 'this build of the engine has no CUDA backend'}; use --device cpu`;
  if (cuda.devices.length === 0) return `${cuda.unavailableReason ?? 'no usable CUDA device'}; use --device cpu`;
  const index = Number(match[1] ?? 0);
  if (!cuda.devices.some((d) => d.index === index)) {
    return `cuda:${index} does not exist (this machine has ${cuda.devices.map((d) => `cuda:${d.index}`).join(', ')})`;
  }
  return null;
}

export function placement(config: Pick<RunConfig, 'device' | 'use_amp'>): Placement {
  const device = config.device === 'cuda' ? 'cuda:0' : config.device;
  return { device, activations: device !== 'cpu' && config.use_amp ? 'bf16' : 'f32' };
}
