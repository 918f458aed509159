// Whether CUDA tests can run here, and why not: node:test prints the reason for every skipped test.
import { engineInfo, loadEngine } from '../../electron/host/engine/addon';

/** false when a CUDA device is usable, else the reason to print with the skip. */
export function cudaSkipReason(): string | false {
  // The host's engineInfo, whose reason says whether CUDA was turned off or not found at build time.
  const { cuda } = engineInfo().backends;
  if (!cuda.compiled) return cuda.unavailableReason ?? 'this build has no CUDA backend';
  if (cuda.devices.length === 0) return `no CUDA device: ${cuda.unavailableReason}`;
  return false;
}

/** false when two ranks can run on CUDA through NCCL here (two devices, or the emulator's), else why not. */
export function twoRankNcclSkipReason(): string | false {
  const cuda = cudaSkipReason();
  if (cuda) return cuda;
  const engine = loadEngine();
  const { emulated, devices } = engine.engineInfo().backends.cuda;
  // The CUDA emulator gives each rank a device of its own (PIX_CUDA_EMULATOR_DEVICES).
  if (!emulated && devices.length < 2) return 'two ranks need two CUDA devices';
  const nccl = engine.ncclLibraryStatus();
  return nccl.available ? false : `NCCL cannot be loaded: ${nccl.reason}`;
}
