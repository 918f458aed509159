// What a CUDA failure during training means to the user. Out of memory (the engine's caching
// allocator says "CUDA out of memory") is answered with a smaller --batch_size; any other CUDA
// error (a failed call or launch, a device that stopped answering) means the device was lost. The
// trainer stops on either, records the reason (failure.json) and keeps the last checkpoint.
// Anything else is not a device fault and is left to the caller.

export type CudaFaultKind = 'out_of_memory' | 'device_lost';

export interface CudaFault {
  kind: CudaFaultKind;
  /** The whole message for the user: what happened, where, and what to do. */
  reason: string;
}

export interface FaultContext {
  device: string;
  batchSize: number;
  useAmp: boolean;
  /** Where training was; absent before the first step (building the model, resuming). */
  epoch?: number;
  step?: number;
}

// The engine's CUDA error messages (core/cuda/check.h, caching_allocator.cu, device_info.cu).
const OUT_OF_MEMORY = /CUDA out of memory/;
const DEVICE_ERROR = /CUDA error in |CUDA launch of .* failed|cuda:\d+ is not usable/;

export function classifyCudaFault(error: unknown, context: FaultContext): CudaFault | null {
  const message = error instanceof Error ? error.message : String(error);
  const where = context.step === undefined ? 'before training began' : `at epoch ${context.epoch}, step ${context.step}`;
  if (OUT_OF_MEMORY.test(message)) {
    const smaller = Math.max(1, Math.floor(context.batchSize / 2));
    return {
      kind: 'out_of_memory',
      reason: `${context.device} ran out of memory ${where} with --batch_size ${context.batchSize}: ` +
        `try a smaller --batch_size (e.g. ${smaller}; a larger --update_freq keeps the effective batch)` +
        (context.useAmp ? '' : ' or --use_amp true (bf16 activations take half the memory)') +
        `. Training stopped; the last checkpoint is kept. (${message})`,
    };
  }
  if (DEVICE_ERROR.test(message)) {
    return {
      kind: 'device_lost',
      reason: `${context.device} failed ${where}: ${message}. Training stopped; the last checkpoint is kept. ` +
        'Check the device (nvidia-smi), then continue with --auto_resume true.',
    };
  }
  return null;
}
