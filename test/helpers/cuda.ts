// Whether CUDA tests can run here, and why not: node:test prints the reason for every skipped test.
import { loadEngine } from '../../electron/host/engine/addon';

/** false when a CUDA device is usable, else the reason to print with the skip. */
export function cudaSkipReason(): string | false {
  const { cuda } = loadEngine().engineInfo().backends;
  if (!cuda.compiled) return 'this build has no CUDA backend (nvcc was not found at build time)';
  if (cuda.devices.length === 0) return `no CUDA device: ${cuda.unavailableReason}`;
  return false;
}
